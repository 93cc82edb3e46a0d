r"""Merge results folders of one experiment run on disjoint seeds (in several sessions or on
several machines) into one folder, as if one command had run every seed; on request, a later
folder's runs of a seed replace an earlier folder's (seeds re-run after a fix)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .report import NUMERIC_ENVIRONMENT, load_results_json, results_title, write_results
from .runs import RunResult

__all__ = ["MATCHING_ENVIRONMENT", "merge_results"]

#: what two runs' environments must share to be merged: the fields that can change the numbers
#: (:data:`graphkd.eval.report.NUMERIC_ENVIRONMENT`)
MATCHING_ENVIRONMENT = tuple(NUMERIC_ENVIRONMENT)


def merge_results(folders: list[str | os.PathLike], out: str | os.PathLike, replace: bool = False) -> Path:
    r"""Writes into ``out`` the results folder of the union of ``folders``' seeds: the same
    ``results.json`` (config with every seed, summary over all runs), ``results.md`` and
    ``runs.csv`` as one ``graphkd train`` / ``graphkd distill --out`` over all the seeds would
    write. The environment is the first folder's, with ``merged_from`` listing each folder,
    the seeds taken from it, the seeds a later folder replaced (``replaced``, if any), when it
    ran and, for a folder that was itself merged, its own ``merged_from``.

    Args:
        folders (list): two or more results folders (each with ``results.json``).
        out (str or PathLike): the merged folder (written atomically, file by file).
        replace (bool, optional): a seed in several folders is taken from the last of them (e.g.
            ``merge_results([all_ten, seeds_0_to_2_rerun], out, replace=True)``); by default a
            seed in two folders is refused (default: :obj:`False`).

    Raises:
        ValueError: fewer than two folders, a folder without results, configs that differ in
            anything but their seeds, a seed in two folders (without ``replace``), a folder every
            seed of which a later one replaces, or environments that differ in one of
            :data:`MATCHING_ENVIRONMENT` (those can change the numbers themselves).
    """
    if len(folders) < 2:
        raise ValueError(f"merge_results needs at least two results folders, got {len(folders)}")
    payloads = [_read(folder) for folder in folders]
    first_config, first_env = payloads[0]["config"], payloads[0].get("environment") or {}
    owner: dict[int, int] = {}  # seed -> index of the folder whose runs of it are kept
    for index, (folder, payload) in enumerate(zip(folders, payloads, strict=True)):
        config, env = payload["config"], payload.get("environment") or {}
        keys = sorted(k for k in set(config) | set(first_config) if config.get(k) != first_config.get(k))
        keys = [k for k in keys if k != "seeds"]
        if keys:
            raise ValueError(f"{folder}: its config differs from {folders[0]}'s in {keys}; merge one experiment's runs")
        for key in MATCHING_ENVIRONMENT:
            if env.get(key) != first_env.get(key):
                raise ValueError(
                    f"{folder} ran with {key}={env.get(key)!r} but {folders[0]} with {first_env.get(key)!r}; "
                    f"that can change the numbers, so they are not merged (rerun with the same {key})"
                )
        stray = sorted({row.get("seed") for row in payload["runs"]} - set(config["seeds"]), key=str)
        if stray:
            raise ValueError(f"{folder}: runs of seeds {stray} that its config does not list ({config['seeds']})")
        for seed in config["seeds"]:
            if seed in owner and not replace:
                raise ValueError(
                    f"seed {seed} is in both {folders[owner[seed]]} and {folder}; merge disjoint seeds, or "
                    "replace=True (--replace) to take a seed's runs from the last folder that has it"
                )
            owner[seed] = index
    kept = [[s for s in p["config"]["seeds"] if owner[s] == i] for i, p in enumerate(payloads)]
    unused = [str(folders[i]) for i, seeds in enumerate(kept) if not seeds]
    if unused:
        raise ValueError(f"every seed of {unused} is replaced by a later folder; leave it out of the merge")
    runs = sorted(
        (RunResult(**row) for i, payload in enumerate(payloads) for row in payload["runs"] if owner[row["seed"]] == i),
        key=lambda run: run.seed,  # stable: a seed's models keep their order
    )
    config = {**first_config, "seeds": sorted(owner)}
    merged_from = [_source(folder, p, seeds) for folder, p, seeds in zip(folders, payloads, kept, strict=True)]
    baseline = config["recipe"]["teacher"]["name"] if config.get("command") == "distill" else None
    env = {**first_env, "merged_from": merged_from}
    return write_results(out, config, runs, results_title(config), baseline=baseline, env=env)


def _source(folder: str | os.PathLike, payload: dict[str, Any], seeds: list[int]) -> dict[str, Any]:
    env = payload.get("environment") or {}
    entry: dict[str, Any] = {"folder": str(folder), "seeds": seeds, "time_utc": env.get("time_utc")}
    replaced = [s for s in payload["config"]["seeds"] if s not in seeds]
    if replaced:
        entry["replaced"] = replaced
    if "merged_from" in env:
        entry["merged_from"] = env["merged_from"]
    return entry


def _read(folder: str | os.PathLike) -> dict[str, Any]:
    path, payload = load_results_json(folder, "graphkd train/distill --out")
    if not isinstance(payload, dict) or not {"config", "runs"} <= set(payload) or "seeds" not in payload["config"]:
        raise ValueError(f"{path} is not a graphkd results file (no config with seeds, or no runs)")
    return payload
