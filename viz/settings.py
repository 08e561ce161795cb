"""The page's settings: the experiment file, the sidebar and what it overrides.

``load_base`` reads and validates the experiment file once per version; ``configure``
applies the sidebar's overrides (Yuma's kappa and bonds penalty, commit-reveal, liquid
alpha, the starting TAO price, a strategy mixed into a role) to its resolved
configuration; ``model_params_for`` builds the sidebar (defaults from the file).
"""

from __future__ import annotations

import copy
import math
import os
import threading
from pathlib import Path
from typing import Any

from mesa.visualization import Slider

ENV_FILE = "TAO_ARENA_VIZ_FILE"
AS_IN_FILE = "as in the file"


def default_experiment() -> Path:
    """The experiment the page shows without ``TAO_ARENA_VIZ_FILE``: the quickstart."""
    import experiments

    return Path(experiments.__file__).resolve().parent / "configs" / "quickstart.yaml"


def experiment_path() -> str:
    """The experiment file this page shows (``TAO_ARENA_VIZ_FILE`` or the quickstart)."""
    return os.environ.get(ENV_FILE) or str(default_experiment())


# ---------------------------------------------------------------------------------------
# The experiment file and the page's overrides
# ---------------------------------------------------------------------------------------

_plan_lock = threading.Lock()
_plan_cache: dict[tuple[str, int, int], Any] = {}


def load_base(path: str | os.PathLike[str]) -> Any:
    """The validated experiment file (an ``experiments.plan.Plan``), cached per file
    version; ``experiments.loader.ConfigError`` if the file is refused."""
    from experiments.plan import load_plan

    p = Path(path).expanduser().resolve()
    try:
        st = p.stat()
        key = (str(p), st.st_mtime_ns, st.st_size)
    except OSError:
        return load_plan(p)  # raises the loader's ConfigError naming the file
    with _plan_lock:
        if key not in _plan_cache:
            _plan_cache.clear()
            _plan_cache[key] = load_plan(p)
        return _plan_cache[key]


def _role_of(strategy: str) -> str:
    from agents.catalog import get

    return str(get(strategy).role)


def strategies_of_role(role: str) -> list[str]:
    """Registered strategy names of ``role``, sorted."""
    from agents.catalog import REGISTRY

    return sorted(n for n, cls in REGISTRY.items() if cls.role == role)


def _largest_remainder(weights: list[float], total: int) -> list[int]:
    """Integers proportional to ``weights`` that sum to ``total``."""
    s = sum(weights)
    if total <= 0 or s <= 0:
        return [0] * len(weights)
    exact = [w * total / s for w in weights]
    out = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - out[i], reverse=True)
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def remix(population: list[dict[str, Any]], role: str, strategy: str,
          share: float) -> list[dict[str, Any]]:
    """``population`` with ``share`` of each subnet's ``role`` agents playing ``strategy``.

    Per subnet, the count of the role is kept; ``strategy`` gets ``round(share * count)``
    agents (in its first cohort there, or in a new cohort with the strategy's defaults and
    the parameters it inherits from the same declaration as the role's first cohort, such
    as a validator's stake), and the other cohorts of the role share the rest in
    proportion to their counts in the file.
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"the mix share must be in [0, 1], got {share!r}")
    if _role_of(strategy) != role:
        raise ValueError(f"{strategy!r} is not a {role} strategy")
    from agents.catalog import get

    pop = copy.deepcopy(population)
    subnets = sorted({c["subnet"] for c in pop if _role_of(c["strategy"]) == role})
    for sn in subnets:
        idx = [i for i, c in enumerate(pop)
               if c["subnet"] == sn and _role_of(c["strategy"]) == role]
        total = sum(pop[i]["count"] for i in idx)
        mine = [i for i in idx if pop[i]["strategy"] == strategy]
        others = [i for i in idx if pop[i]["strategy"] != strategy]
        k = round(share * total)
        if not others or sum(pop[i]["count"] for i in others) == 0:
            k = total if share > 0 else k
        rest = _largest_remainder([float(pop[i]["count"]) for i in others], total - k)
        for i, n in zip(others, rest, strict=True):
            pop[i]["count"] = n
        if mine:
            pop[mine[0]]["count"] = k
            for i in mine[1:]:
                pop[i]["count"] = 0
        elif k > 0:
            # keep only what both strategies inherit from one declaration (a validator's
            # stake, an endowment), as experiments.plan does for strategy profiles; the
            # rest (quality, capability, ...) defines the strategy: its defaults
            new, old = get(strategy).all_params(), get(pop[idx[0]]["strategy"]).all_params()
            params = {key: v for key, v in pop[idx[0]]["params"].items()
                      if key in new and new[key] is old.get(key)}
            pop.append({"strategy": strategy, "count": k, "subnet": sn, "params": params,
                        "label": f"mixed in by the page ({share:.0%})"})
    return pop


def configure(
    base: dict[str, Any],
    *,
    kappa: float | None = None,
    bonds_penalty: float | None = None,
    reveal_period: int | None = None,
    liquid_alpha: bool | None = None,
    tao_price_usd: float | None = None,
    miner_mix: str = AS_IN_FILE,
    miner_mix_share: float = 0.0,
    validator_mix: str = AS_IN_FILE,
    validator_mix_share: float = 0.0,
) -> dict[str, Any]:
    """The resolved experiment ``base`` with the page's overrides, for every subnet.

    ``None`` (or ``AS_IN_FILE``) keeps the file's value. ``reveal_period`` 0 turns
    commit-reveal off. ``liquid_alpha`` applies to Yuma 3 subnets only (the chain has no
    liquid alpha in Yuma 2). ``tao_price_usd`` sets the starting TAO price (a price
    series is rescaled to start there). Mix shares are fractions in [0, 1].
    """
    cfg = copy.deepcopy(base)
    cfg.pop("sweep", None)
    cfg.pop("profiles", None)
    for sn in cfg["scenario"]["subnets"]:
        yuma = sn["yuma"]
        if kappa is not None:
            yuma["kappa"] = float(kappa)
        if bonds_penalty is not None:
            yuma["bonds_penalty"] = float(bonds_penalty)
        if liquid_alpha is not None:
            yuma["liquid_alpha"] = bool(liquid_alpha) and yuma["version"] == "yuma3"
        if reveal_period is not None:
            rp = int(reveal_period)
            sn["commit_reveal"] = rp > 0
            sn["reveal_period"] = rp
    price = cfg["scenario"]["price"]
    price["series_file"] = None  # its values are already in series_usd
    if tao_price_usd is not None:
        p = float(tao_price_usd)
        if price["kind"] == "series" and price["series_usd"]:
            first = price["series_usd"][0]
            price["series_usd"] = [v * p / first for v in price["series_usd"]]
        price["initial_usd"] = p
    if miner_mix and miner_mix != AS_IN_FILE:
        cfg["population"] = remix(cfg["population"], "miner", miner_mix, miner_mix_share)
    if validator_mix and validator_mix != AS_IN_FILE:
        cfg["population"] = remix(cfg["population"], "validator", validator_mix,
                                  validator_mix_share)
    return cfg



def file_values(config: dict[str, Any]) -> dict[str, Any]:
    """The sidebar's defaults: subnet 0's values (and the starting price) in the file."""
    sn = config["scenario"]["subnets"][0]
    return {
        "kappa": float(sn["yuma"]["kappa"]),
        "bonds_penalty": float(sn["yuma"]["bonds_penalty"]),
        "reveal_period": int(sn["reveal_period"]) if sn["commit_reveal"] else 0,
        "liquid_alpha": bool(sn["yuma"]["liquid_alpha"]),
        "tao_price_usd": float(config["scenario"]["price"]["initial_usd"]),
    }


def model_params_for(plan: Any, experiment: str) -> dict[str, Any]:
    """The sidebar: sliders and selectors (defaults from the file) and the fixed file."""
    file = file_values(plan.config)
    price = file["tao_price_usd"]
    present = {c["strategy"] for c in plan.config["population"]}
    roles = {r: strategies_of_role(r) for r in ("miner", "validator")}
    # strategies in the file first, then the rest of the registry
    for r, names in roles.items():
        roles[r] = sorted(names, key=lambda n: (n not in present, n))
    return {
        "experiment": experiment,
        "seed_index": {"type": "InputText", "value": "0", "label": "Seed index (run s0000 = 0)"},
        "kappa": Slider("Kappa (consensus majority)", file["kappa"], 0.0, 1.0, 0.01,
                        dtype=float),
        "bonds_penalty": Slider("Bonds penalty (beta)", file["bonds_penalty"], 0.0, 1.0,
                                0.05, dtype=float),
        "reveal_period": Slider("Commit-reveal period (epochs, 0 = off)",
                                file["reveal_period"], 0, max(10, file["reveal_period"]), 1,
                                dtype=int),
        "liquid_alpha": {"type": "Checkbox", "value": file["liquid_alpha"],
                         "label": "Liquid alpha (Yuma 3)"},
        "tao_price_usd": Slider("TAO price at start (USD)", price, min(1.0, price),
                                max(1000.0, round(price) * 2), 1.0, dtype=float),
        "miner_mix": {"type": "Select", "value": AS_IN_FILE, "label": "Mix in miner strategy",
                      "values": [AS_IN_FILE, *roles["miner"]]},
        "miner_mix_share": Slider("... its share of miners (%)", 25, 0, 100, 5, dtype=int),
        "validator_mix": {"type": "Select", "value": AS_IN_FILE,
                          "label": "Mix in validator strategy",
                          "values": [AS_IN_FILE, *roles["validator"]]},
        "validator_mix_share": Slider("... its share of validators (%)", 25, 0, 100, 5,
                                      dtype=int),
    }


