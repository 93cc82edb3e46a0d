import pytest
import torch


@pytest.fixture
def gradients_on_two_threads():
    """``gradients_on_two_threads(loss_of_new_model)``: the parameter gradients of
    ``loss_of_new_model()`` (which builds a model, with ``torch.manual_seed(0)`` set before, and
    returns ``(model, loss)``) over 4 runs on 2 CPU threads, for checks of bit-reproducibility (a
    thread-dependent summation order shows on some runs only)."""

    def run(loss_of_new_model):
        threads = torch.get_num_threads()
        torch.set_num_threads(2)
        try:
            grads = []
            for _ in range(4):
                torch.manual_seed(0)
                model, loss = loss_of_new_model()
                loss.backward()
                grads.append([p.grad for p in model.parameters()])
        finally:
            torch.set_num_threads(threads)
        return grads

    return run
