"""Mechanism design: ``tao-arena design FILE`` searches hyperparameters where honesty pays.

A design file (``experiments/configs/design/*.yaml``) holds an experiment (scenario,
population, epochs, seeds and ``profiles`` with deviations, as any experiment file), the
hyperparameters to search with their ranges, the objectives and the search budget. Each
trial is that experiment at one setting of the hyperparameters, written as an experiment
file with a one-point sweep (``trials/trial-NNNN.yaml``) and run through the project's own
plan and runners (``experiments.plan``, ``experiments.runner``): the all-honest baseline
and every single deviation on the same paired seeds, serially or on Ray (one Ray session
for the whole search; a trial's runs fan out over its workers). Its objectives
(``analysis.design.trial_objectives``: the regret of honest play, miners' and validators'
income, alignment, with intervals) are read back from the trial's Parquet files and told to
an Optuna study with a multi-objective sampler (TPE, NSGA-II, NSGA-III or random), whose
journal file in the output directory makes the search resumable: run the same command again
and the study continues where it stopped (complete runs of an interrupted trial are kept,
so its re-run costs only what was missing).

Outputs, in ``<results root>/design/<name>/<hash of the design>/``: ``design.json`` (every
trial, the Pareto front, the recommended setting and the evidence for it), ``design.md``
and the figures (``analysis.design_figures``).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from experiments.loader import ConfigError, Issue, issues_from_validation, load_yaml, read_text

SAMPLERS = ("tpe", "nsga2", "nsga3", "random")
JOURNAL = "study.journal"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class Dimension(_Spec):
    """One searched hyperparameter: a range (``low``/``high``, optionally ``log`` or an
    integer ``step``), scalar ``choices``, or named ``options``, each a set of paths and
    values applied together (e.g. commit-reveal off, or on with a reveal period)."""

    low: float | None = None
    high: float | None = None
    log: bool = False
    step: int | None = Field(default=None, ge=1, description="integer range with this step")
    choices: list[bool | int | float | str] | None = None
    options: dict[str, dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Dimension:
        kinds = [self.low is not None or self.high is not None, self.choices is not None,
                 self.options is not None]
        if sum(kinds) != 1:
            raise ValueError("give exactly one of low/high, choices or options")
        if kinds[0]:
            if self.low is None or self.high is None or not self.low < self.high:
                raise ValueError(f"needs low < high, got low={self.low}, high={self.high}")
            if self.log and self.low <= 0:
                raise ValueError(f"log ranges need low > 0, got {self.low}")
            if self.step is not None and not (float(self.low).is_integer()
                                              and float(self.high).is_integer()):
                raise ValueError("an integer range (step) needs integer low and high")
        if self.choices is not None and not self.choices:
            raise ValueError("choices must not be empty")
        if self.options is not None and not self.options:
            raise ValueError("options must not be empty")
        return self


class Recommend(_Spec):
    """How the recommended setting is chosen from the Pareto front."""

    max_regret: float = Field(default=0.0, description="largest acceptable regret upper "
                                                       "bound (USD per day)")
    prefer: Literal["miner_income", "validator_income", "alignment"] = "miner_income"


class DesignSpec(_Spec):
    """A design file."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,80}$")
    description: str = ""
    experiment: dict[str, Any]
    search: dict[str, Dimension] = Field(min_length=1)
    objectives: list[Literal["regret", "miner_income", "validator_income", "alignment"]] = (
        Field(default_factory=lambda: ["regret", "miner_income", "validator_income",
                                       "alignment"], min_length=1))
    trials: int = Field(default=20, ge=1)
    sampler: Literal["tpe", "nsga2", "nsga3", "random"] = "tpe"
    seed: int = Field(default=0, ge=0)
    confidence: float = Field(default=0.95, gt=0, lt=1)
    recommend: Recommend = Field(default_factory=Recommend)
    income_of: dict[Literal["miner", "validator"], list[str]] = Field(
        default_factory=lambda: {"miner": ["honest_miner"], "validator": ["honest_validator"]},
        description="per role, the strategies whose income the income objectives measure")

    @model_validator(mode="after")
    def _check(self) -> DesignSpec:
        if "regret" not in self.objectives:
            raise ValueError("objectives must include regret (the point of the search)")
        if len(set(self.objectives)) != len(self.objectives):
            raise ValueError("objectives must not repeat")
        if self.recommend.prefer not in self.objectives:
            raise ValueError(f"recommend.prefer ({self.recommend.prefer}) must be one of the "
                             f"objectives")
        for key in ("sweep",):
            if key in self.experiment:
                raise ValueError("experiment must not have a sweep: the search sets the "
                                 "hyperparameters")
        prof = self.experiment.get("profiles")
        if not isinstance(prof, dict) or prof.get("deviations") is False:
            raise ValueError("experiment needs profiles with deviations (the all-honest "
                             "baseline and its single deviations)")
        return self


@dataclass
class Design:
    """A validated design file."""

    spec: DesignSpec
    source: Path
    digest: str  # sha256 of the file's content: names the output directory

    @property
    def directions(self) -> list[str]:
        from analysis.design import OBJECTIVES

        return [OBJECTIVES[o] for o in self.spec.objectives]


# ---------------------------------------------------------------------------------------
# Trials as experiment files
# ---------------------------------------------------------------------------------------


def overrides_of(spec: DesignSpec, params: dict[str, Any]) -> dict[str, Any]:
    """The experiment paths and values a trial's parameters set (options expanded)."""
    out: dict[str, Any] = {}
    for name, dim in spec.search.items():
        if dim.options is not None:
            out.update(dim.options[params[name]])
        else:
            out[name] = params[name]
    return out


def trial_experiment(design: Design, params: dict[str, Any]) -> dict[str, Any]:
    """The experiment of one trial: the design's experiment with a one-point sweep."""
    exp = copy.deepcopy(design.spec.experiment)
    exp["name"] = design.spec.name
    price = (exp.get("scenario") or {}).get("price")
    if isinstance(price, dict) and isinstance(price.get("series_file"), str):
        price["series_file"] = str((design.source.parent / price["series_file"]).resolve())
    exp["sweep"] = {"grid": {p: [v] for p, v in overrides_of(design.spec, params).items()}}
    return exp


def _write(path: Path, text: str) -> None:
    from experiments.store import make_dir, write_atomic

    make_dir(path.parent, "an output directory")
    write_atomic(path, text.encode())


def _probe_params(spec: DesignSpec) -> list[dict[str, Any]]:
    """Settings checked before the search: each range's ends, each choice and option."""
    base = {n: (d.low if d.low is not None else d.choices[0] if d.choices is not None
                else next(iter(d.options or {}))) for n, d in spec.search.items()}
    probes = [base]
    for n, d in spec.search.items():
        alts = ([d.high] if d.low is not None else list(d.choices or [])[1:]
                + list(d.options or {})[1:])
        probes += [{**base, n: alt} for alt in alts]
    for p in probes:
        for n, d in spec.search.items():
            if d.step is not None:
                p[n] = int(p[n])
    return probes


def _design_loc(spec: DesignSpec, loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Where in the design file an issue of a trial's experiment comes from: the search
    dimension that set a swept path, else the experiment section."""
    if loc[:2] == ("sweep", "grid") and len(loc) > 2:
        for name, d in spec.search.items():
            if loc[2] == name or (d.options and any(loc[2] in o for o in d.options.values())):
                return ("search", name)
    return ("experiment", *loc)


def load_design(path: str | Path) -> Design:
    """Read and validate a design file; every probe setting (the ends of each range, each
    choice and option) must make a valid experiment. ``ConfigError`` otherwise."""
    from experiments.plan import load_plan

    path = Path(path)
    data = read_text(path)
    raw = load_yaml(data, str(path))
    try:
        spec = DesignSpec.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(str(path), issues_from_validation(err)) from None
    design = Design(spec, path, hashlib.sha256(data).hexdigest())
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for k, params in enumerate(_probe_params(spec)):
            probe = Path(tmp) / f"probe-{k}.yaml"
            probe.write_text(json.dumps(trial_experiment(design, params)))
            try:
                load_plan(probe)
            except ConfigError as err:
                where = ", ".join(f"{n} = {v!r}" for n, v in params.items())
                raise ConfigError(str(path), [
                    Issue(_design_loc(spec, i.loc), f"at the setting {where}: {i.message}")
                    for i in err.issues]) from None
    return design


# ---------------------------------------------------------------------------------------
# The search (Optuna)
# ---------------------------------------------------------------------------------------


class TrialFailed(RuntimeError):
    """A trial whose runs failed or whose setting was refused."""


def make_sampler(name: str, seed: int) -> Any:
    """An Optuna multi-objective sampler by name, seeded."""
    import optuna

    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=8)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=8)
    if name == "nsga3":
        return optuna.samplers.NSGAIIISampler(seed=seed, population_size=8)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got {name!r}")


def suggest(trial: Any, space: dict[str, Dimension]) -> dict[str, Any]:
    """The trial's parameters from Optuna (options are categorical by name)."""
    out: dict[str, Any] = {}
    for name, d in space.items():
        if d.options is not None:
            out[name] = trial.suggest_categorical(name, list(d.options))
        elif d.choices is not None:
            out[name] = trial.suggest_categorical(name, d.choices)
        elif d.step is not None:
            out[name] = trial.suggest_int(name, int(d.low), int(d.high), step=d.step)  # type: ignore[arg-type]
        else:
            out[name] = trial.suggest_float(name, d.low, d.high, log=d.log)  # type: ignore[arg-type]
    return out


Evaluate = Callable[[int, dict[str, Any]], tuple[list[float], dict[str, Any]]]


def search(study_dir: Path, study_name: str, space: dict[str, Dimension],
           directions: list[str], evaluate: Evaluate, *, trials: int, sampler: str = "tpe",
           seed: int = 0, log: Callable[[str], None] = print) -> Any:
    """Run (or resume) an Optuna study until it has ``trials`` finished trials.

    The study lives in ``study_dir/study.journal`` (Optuna's journal storage), so a later
    call continues it. ``evaluate(number, params)`` returns the objective values and
    attributes to keep; ``TrialFailed`` marks the trial failed (it still counts). A trial
    left running by an interrupted process is marked failed and its setting asked again
    first. The sampler's seed is offset by the trials already started (interrupted ones
    included), so a resumed search draws new settings rather than repeating its first ones.
    """
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    from optuna.trial import TrialState

    from experiments.store import make_dir

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    make_dir(study_dir, "a study directory")
    storage = JournalStorage(JournalFileBackend(str(study_dir / JOURNAL)))
    probe = optuna.create_study(study_name=study_name, storage=storage, directions=directions,
                                load_if_exists=True)
    finished = len(probe.get_trials(deepcopy=False,
                                    states=(TrialState.COMPLETE, TrialState.FAIL)))
    started = len(probe.get_trials(deepcopy=False))
    for t in probe.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        storage.set_trial_user_attr(t._trial_id, "error", "interrupted: the process ended "
                                                          "while it ran; its setting is retried")
        storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
        probe.enqueue_trial(t.params, user_attrs={"retry_of": t.number})
    study = optuna.load_study(study_name=study_name, storage=storage,
                              sampler=make_sampler(sampler, seed + started))
    while finished < trials:
        trial = study.ask()
        params = suggest(trial, space)
        try:
            values, attrs = evaluate(trial.number, params)
        except TrialFailed as err:
            trial.set_user_attr("error", str(err))
            study.tell(trial, state=TrialState.FAIL)
            log(f"trial {trial.number}: failed: {err}")
        else:
            for k, v in attrs.items():
                trial.set_user_attr(k, v)
            study.tell(trial, values)
            shown = ", ".join(f"{v:.4g}" for v in values)
            log(f"trial {trial.number}: {params} -> {shown}")
        finished += 1
    return study


# ---------------------------------------------------------------------------------------
# Running a design file
# ---------------------------------------------------------------------------------------


def output_dir(design: Design, out: str | Path | None = None) -> Path:
    """``out``, else ``<results root>/design/<name>/<first 12 hex of the file's sha256>``."""
    from experiments.runner import results_root

    if out is not None:
        return Path(out)
    return results_root() / "design" / design.spec.name / design.digest[:12]


def run_design(design: Design, *, out: str | Path | None = None, backend: str = "serial",
               workers: int | None = None, address: str | None = None,
               trials: int | None = None, progress: bool = False,
               log: Callable[[str], None] = print) -> Path:
    """Run (or resume) the search of ``design``; write its outputs; return ``design.json``."""
    import contextlib

    from analysis.design import trial_objectives
    from experiments.backends import RaySession
    from experiments.plan import load_plan
    from experiments.runner import run_plan

    spec = design.spec
    root = output_dir(design, out)

    def evaluate(number: int, params: dict[str, Any]) -> tuple[list[float], dict[str, Any]]:
        trial_file = root / "trials" / f"trial-{number:04d}.yaml"
        _write(trial_file, json.dumps(trial_experiment(design, params), indent=1) + "\n")
        try:
            plan = load_plan(trial_file)
        except ConfigError as err:
            raise TrialFailed(f"setting refused: {err}") from None
        outcome = run_plan(plan, root=root / "runs", backend=backend, workers=workers,
                           address=address, progress=progress,
                           heal=["tao-arena", "run", str(trial_file),
                                 "--results", str(root / "runs")])
        if outcome.exit_code:
            raise TrialFailed(outcome.report())
        obj = trial_objectives(outcome.results_dir, spec.confidence,
                               income_of=spec.income_of)
        values = [float(obj[o]["value"]) for o in spec.objectives]
        bad = [o for o, v in zip(spec.objectives, values, strict=True) if not math.isfinite(v)]
        if bad:
            raise TrialFailed(f"objective(s) {', '.join(bad)} not finite in "
                              f"{outcome.results_dir}")
        return values, {"objectives": obj, "overrides": overrides_of(spec, params),
                        "results_dir": str(outcome.results_dir.relative_to(root))}

    session = (RaySession(workers, address) if backend == "ray"
               else contextlib.nullcontext())
    with session:
        study = search(root, spec.name, spec.search, design.directions, evaluate,
                       trials=trials or spec.trials, sampler=spec.sampler, seed=spec.seed,
                       log=log)
    return write_outputs(design, study, root)


def study_trials(study: Any) -> list[dict[str, Any]]:
    """The finished trials of a study as plain data."""
    from optuna.trial import TrialState

    out = []
    for t in study.get_trials(deepcopy=False):
        if t.state not in (TrialState.COMPLETE, TrialState.FAIL):
            continue
        out.append({"number": t.number, "state": t.state.name.lower(), "params": t.params,
                    "values": t.values, **t.user_attrs})
    return out


def write_outputs(design: Design, study: Any, root: Path) -> Path:
    """``design.json``, ``design.md`` and the figures of a (partial or complete) search."""
    import numpy as np

    from analysis.design import OBJECTIVES, pareto_mask, recommend

    spec = design.spec
    trials = study_trials(study)
    done = [t for t in trials if t["state"] == "complete"]
    if done:
        mask = pareto_mask(np.array([t["values"] for t in done]), design.directions)
        for t, on in zip(done, mask, strict=True):
            t["pareto"] = bool(on)
    rec = recommend(done, max_regret=spec.recommend.max_regret, prefer=spec.recommend.prefer)
    doc = {
        "design": spec.name,
        "description": spec.description,
        "source": {"file": str(design.source), "sha256": design.digest},
        "objectives": {o: OBJECTIVES[o] for o in spec.objectives},
        "search": {name: d.model_dump(exclude_none=True) for name, d in spec.search.items()},
        "sampler": spec.sampler, "seed": spec.seed, "budget": spec.trials,
        "confidence": spec.confidence, "recommend_rule": spec.recommend.model_dump(),
        "income_of": spec.income_of,
        "storage": JOURNAL,
        "trials": trials,
        "pareto_front": [t["number"] for t in done if t.get("pareto")],
        "recommended": rec,
    }
    return write_design_doc(root, doc)


def write_design_doc(root: Path, doc: dict[str, Any]) -> Path:
    """``design.json`` (strict JSON: a NaN or infinity, e.g. an interval of one seed, is
    written as null) and the report drawn from it; returns ``design.json``."""
    from analysis.design_report import write_report
    from experiments.store import finite_json

    path = root / "design.json"
    _write(path, json.dumps(finite_json(doc), indent=1, allow_nan=False) + "\n")
    write_report(path, root)
    return path


# ---------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------


def add_parser(sub: Any) -> None:
    """Add ``design`` to the ``tao-arena`` subparsers."""
    from experiments.commands import _positive_int as _positive

    p = sub.add_parser("design", help="search hyperparameters where honest play is an "
                                      "equilibrium (Pareto front, recommendation, figures)")
    p.add_argument("file", metavar="FILE", help="a design file (experiments/configs/design/)")
    p.add_argument("--trials", type=_positive, default=None,
                   help="finished trials to reach (default: the file's trials)")
    p.add_argument("--backend", choices=("serial", "ray"), default="serial",
                   help="where a trial's runs execute (default: serial)")
    p.add_argument("--workers", type=_positive, default=None,
                   help="CPUs of the local Ray instance (default: all)")
    p.add_argument("--address", default=None, help="an existing Ray cluster")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default: <results root>/design/<name>/<hash>)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    """``tao-arena design``: 0 done; 2 a refused file (nothing run); 1 results in use;
    130 interrupted (the search continues when the command is run again)."""
    from experiments.store import ResultsLocked

    design = load_design(args.file)  # ConfigError (a ValueError): the CLI exits 2
    try:
        path = run_design(design, out=args.out, backend=args.backend, workers=args.workers,
                          address=args.address, trials=args.trials,
                          progress=not args.no_progress,
                          log=lambda m: print(m, file=sys.stderr))
    except ResultsLocked as err:
        print(f"tao-arena: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tao-arena: error: interrupted; run the same command again to continue the "
              "search", file=sys.stderr)
        return 130
    doc = json.loads(path.read_text())
    rec = doc["recommended"]
    print(f"{len(doc['trials'])} trial(s), Pareto front: {doc['pareto_front']}")
    if rec is not None:
        print(f"recommended: trial {rec['trial']} {rec['params']}\n  {rec['reason']}")
    print(f"design: {path}\nreport: {path.parent / 'design.md'}")
    return 0
