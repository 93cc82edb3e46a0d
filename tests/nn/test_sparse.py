import pytest
import torch

from graphkd.nn.sparse import CSRLayout, sparse_matmul


def random_sparse(m, k, nnz, seed=0):
    g = torch.Generator().manual_seed(seed)
    flat = torch.randperm(m * k, generator=g)[:nnz]  # distinct entries, in random order
    return flat // k, flat % k, torch.randn(nnz, generator=g)


def test_layout_sorts_row_major_and_stores_the_transpose():
    row, col = torch.tensor([2, 0, 2, 1]), torch.tensor([0, 3, 1, 3])
    layout, order = CSRLayout.from_coo(row, col, (3, 4))
    assert layout.shape == (3, 4)
    assert order.tolist() == [1, 3, 0, 2]
    assert layout.row.tolist() == [0, 1, 2, 2] and layout.col.tolist() == [3, 3, 0, 1]
    assert layout.crow.tolist() == [0, 1, 2, 4]  # row 0: 1 entry, row 1: 1, row 2: 2
    # the transpose, row-major: (col 0: row 2), (col 1: row 2), (col 3: rows 0, 1)
    assert layout.t_crow.tolist() == [0, 1, 2, 2, 4] and layout.t_col.tolist() == [2, 2, 0, 1]
    assert layout.col[layout.perm].tolist() == [0, 1, 3, 3]
    assert layout.crow.dtype == layout.col.dtype == torch.int32 and layout.row.dtype == torch.long


def test_product_and_both_gradients_equal_the_dense_ones():
    m, k, d = 30, 20, 5
    row, col, values = random_sparse(m, k, 90)
    layout, order = CSRLayout.from_coo(row, col, (m, k))
    values = values[order].requires_grad_()
    dense = torch.randn(k, d, requires_grad=True)
    out = sparse_matmul(values, layout, dense)
    a = torch.zeros(m, k).index_put((layout.row, layout.col), values)
    expected = a @ dense
    assert torch.allclose(out, expected, atol=1e-6)
    weights = torch.randn(m, d)
    got = torch.autograd.grad((out * weights).sum(), (values, dense))
    want = torch.autograd.grad((expected * weights).sum(), (values, dense))
    assert all(torch.allclose(g, w, atol=1e-5) for g, w in zip(got, want, strict=True))
    # empty rows and columns are fine: most of the 30 x 20 entries are absent
    assert int((layout.crow[1:] == layout.crow[:-1]).sum()) > 0


def test_gradient_only_where_asked():
    row, col, values = random_sparse(8, 6, 12)
    layout, order = CSRLayout.from_coo(row, col, (8, 6))
    values = values.requires_grad_(False)  # fixed weights (e.g. a normalised adjacency)
    dense = torch.randn(6, 3, requires_grad=True)
    out = sparse_matmul(values[order], layout, dense)
    weights = torch.randn(8, 3)
    (grad,) = torch.autograd.grad((out * weights).sum(), dense)
    matrix = torch.zeros(8, 6).index_put_((row, col), values)
    assert torch.allclose(grad, matrix.t() @ weights, atol=1e-5)  # A^T g, from the stored transpose
    assert out.grad_fn is not None and values.grad is None


def test_bit_reproducible_on_two_threads():
    row, col, values = random_sparse(400, 300, 20000, seed=1)
    layout, order = CSRLayout.from_coo(row, col, (400, 300))
    values = values[order]
    dense = torch.randn(300, 16)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        runs = []
        for _ in range(4):
            v, b = values.clone().requires_grad_(), dense.clone().requires_grad_()
            out = sparse_matmul(v, layout, b)
            out.pow(2).sum().backward()
            runs.append((out.detach(), v.grad, b.grad))
    finally:
        torch.set_num_threads(threads)
    assert all(torch.equal(a, b) for run in runs[1:] for a, b in zip(runs[0], run, strict=True))


def test_bad_inputs():
    layout, _ = CSRLayout.from_coo(torch.tensor([0, 1]), torch.tensor([1, 0]), (2, 2))
    with pytest.raises(ValueError, match=r"values must be 1-D with 2 entries, got \[3\]"):
        sparse_matmul(torch.ones(3), layout, torch.ones(2, 1))
    with pytest.raises(ValueError, match=r"must have shape \[2, D\] for a 2 x 2 sparse one, got \[3, 1\]"):
        sparse_matmul(torch.ones(2), layout, torch.ones(3, 1))
    with pytest.raises(ValueError, match="same length, got 2 and 1"):
        CSRLayout.from_coo(torch.tensor([0, 1]), torch.tensor([0]), (2, 2))
    with pytest.raises(ValueError, match="entries must lie in a 2 x 2 matrix"):
        CSRLayout.from_coo(torch.tensor([0, 2]), torch.tensor([0, 1]), (2, 2))
