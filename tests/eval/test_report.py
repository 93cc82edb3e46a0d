from graphkd.eval import results_title


def test_results_title_names_dataset_split_protocol_and_selection():
    distill = {
        "command": "distill",
        "dataset": "cpf-cora",
        "split": None,  # the dataset's default split
        "setting": "inductive",
        "method": "glnn",
        "seeds": [0, 1, 2],
        "recipe": {"teacher": {"name": "sage"}},
    }
    assert results_title(distill) == (
        "cpf-cora (cpf split, inductive), sage teacher -> glnn, 3 seed(s), checkpoints chosen on validation accuracy"
    )
    train = {"command": "train", "dataset": "cora", "split": "random", "seeds": [4]}
    assert results_title(train) == "cora (random split), 1 seed(s), checkpoint chosen on validation accuracy"
