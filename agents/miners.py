"""Miner strategies (MODEL.md section 6, "Miners").

Every ``produce`` acts on a whole ``Group`` (arrays over its members) and returns a
``Production``: true answer quality, answer key (copies share one), fixed cost, cost per
query received and whether the answers cost compute (MODEL.md section 5). Reference
figures (MODEL.md section 8): MT-bench late 2023, GPT-4 Turbo 9.3, Mixtral-8x7B 8.3,
GPT-3.5 Turbo 7.9, Llama-2-70B 6.9 (quality = score / 10); an A100 80GB at about $1.3-$2
an hour; GPT-4 Turbo at $0.01 / 1k input and $0.03 / 1k output tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import numpy as np

from agents.base import Miner, Param, register
from agents.population import FormsCabals, cabal_param, ensure_cabals
from world.interfaces import Group, Production, SubnetContext
from world.kept import kept

GPT4_TURBO_QUALITY = 0.93  # MT-bench 9.3 / 10 (MODEL.md section 8)
# a few hundred tokens each way at $0.01 / 1k input and $0.03 / 1k output (MODEL.md 8)
GPT4_TURBO_USD_PER_QUERY = 0.02
# GPT-3.5 Turbo (1106), OpenAI price list Nov 2023: $0.001 / 1k input, $0.002 / 1k output
GPT35_TURBO_USD_PER_QUERY = 0.001
A100_USD_PER_HOUR = 1.6  # MODEL.md section 8: A100 80GB $1.3-$2 an hour
HOSTING_USD_PER_HOUR = 0.05  # a small CPU virtual server (~$36 a month) relaying answers


@register
class HonestMiner(Miner):
    """Honest GPU miner: rents a GPU for the whole epoch and runs an open model.

    Its cost does not depend on traffic (MODEL.md section 6). It is the behaviour the
    network is meant to reward, and the reference every other miner strategy is compared
    with (claims 2, 4 and 5 of MODEL.md section 7). Defaults: Llama-2-70B quality (MT-bench
    6.9/10) on an A100 at $1.6 an hour (MODEL.md section 8). The report's "We run a high
    quality model at low cost that puts us at parity with other miners".
    """

    name = "honest_miner"
    classifier: ClassVar[dict] = {
        "role": "miner",
        "cost_model": "fixed (GPU rent per hour)",
        "colludes": False,
        "stochastic": False,
        "needs_gpu": True,
        "grades": False,
        "copies": False,
        "adapts": False,
    }
    params: ClassVar[dict[str, Param]] = {
        "quality": Param(0.69, 0, 1, "true answer quality (MT-bench / 10)"),
        "gpu_usd_per_hour": Param(A100_USD_PER_HOUR, 0, None, "GPU rent in USD per hour",
                                  source="MODEL.md section 8: A100 80GB $1.3-$2 an hour"),
        "cabal_tag": cabal_param(-1),
    }

    @classmethod
    def produce(cls, group: Group, ctx: SubnetContext) -> Production:
        return Production.own_answers(
            quality=group.param("quality"),
            fixed_cost_usd=group.param("gpu_usd_per_hour") * ctx.epoch_hours,
        )


@register
class PassThroughMiner(Miner):
    """GPT pass-through: forwards every query it receives to a paid API.

    High quality (GPT-4 Turbo, MT-bench 9.3/10) at a cost per query ($0.02, MODEL.md
    section 8) plus a small server relaying the calls; no GPU. Its cost grows with its
    traffic where an honest GPU miner's is fixed. Tests claim 5 of MODEL.md section 7
    (pass-through miners beat honest GPU miners when validators are weaker graders than the
    API model). The report: "let's imagine that we simply do a passthrough to the GPT4Turbo
    API with our miner" ... "If our model wins against inferior models, and wins against
    other GPT4 passthroughs, and our per token cost is low, then we could make some money."
    """

    name = "gpt_passthrough"
    classifier: ClassVar[dict] = {
        "role": "miner",
        "cost_model": "per query (API) + small server",
        "colludes": False,
        "stochastic": False,
        "needs_gpu": False,
        "grades": False,
        "copies": False,
        "adapts": False,
    }
    params: ClassVar[dict[str, Param]] = {
        "quality": Param(GPT4_TURBO_QUALITY, 0, 1, "API model's answer quality (MT-bench / 10)",
                         source="MODEL.md section 8: GPT-4 Turbo MT-bench ~9.3"),
        "query_cost_usd": Param(GPT4_TURBO_USD_PER_QUERY, 0, None, "USD per API call",
                                source="MODEL.md section 8: GPT-4 Turbo $0.01/$0.03 per 1k "
                                "tokens"),
        "server_usd_per_hour": Param(HOSTING_USD_PER_HOUR, 0, None, "relay server, USD/hour"),
        "cabal_tag": cabal_param(-1),
    }

    @classmethod
    def produce(cls, group: Group, ctx: SubnetContext) -> Production:
        return Production.own_answers(
            quality=group.param("quality"),
            fixed_cost_usd=group.param("server_usd_per_hour") * ctx.epoch_hours,
            query_cost_usd=group.param("query_cost_usd"),
        )


@register
class CopyCabalMiner(FormsCabals, Miner):
    """Copy-cabal miner: one of a group of miners answering with their source's answer.

    Members with the same ``cabal_tag`` on a subnet form one cabal (``Network.form_cabal``).
    One member, the source (the cabal's leader if it is one of these miners, else the
    member with the lowest account), runs the model: a GPU (``gpu_usd_per_hour``) or an API
    (``query_cost_usd``); the others relay its answers from a small server. All return the
    same answer (the cabal id is the answer key), so all score alike at the source's
    quality, and a validator with duplicate detection zeroes the copies it catches
    (``world.work``). An API source answers each prompt once for the whole cabal: with
    ``g`` members each sampled with probability ``p`` per round, the cabal is hit in
    ``1 - (1 - p)^g`` rounds per validator against the source's own ``p``, so the source
    pays ``query_cost_usd * (1 - (1 - p)^g) / p`` per query it receives.

    Tests claim 4 of MODEL.md section 7 (cabals that copy one answer are more
    cost-effective than paying per answer). The report: "Miners will attempt to form
    off-chain cabals to copy each other's answers as this is will always be more cost
    effective than one miner paying full freight for say, a GPT4 Turbo passthrough".
    """

    name = "copy_cabal"
    classifier: ClassVar[dict] = {
        "role": "miner",
        "cost_model": "source: GPU or API; members: small server",
        "colludes": True,
        "stochastic": False,
        "needs_gpu": False,
        "grades": False,
        "copies": True,
        "adapts": False,
    }
    params: ClassVar[dict[str, Param]] = {
        "quality": Param(GPT4_TURBO_QUALITY, 0, 1, "source model's answer quality"),
        "gpu_usd_per_hour": Param(0.0, 0, None, "source's GPU rent, USD per hour"),
        "query_cost_usd": Param(GPT4_TURBO_USD_PER_QUERY, 0, None, "source's USD per API call"),
        "hosting_usd_per_hour": Param(HOSTING_USD_PER_HOUR, 0, None, "each member's server"),
        "share_costs": Param(0, doc="who pays the source's model: the source alone (no), or "
                             "every member an equal share (yes)", choices=("no", "yes")),
        "cabal_tag": cabal_param(0),
    }

    @classmethod
    def produce(cls, group: Group, ctx: SubnetContext) -> Production:
        """Every member answers with its source's answer; the source pays the model (GPU
        rent, API calls for the whole cabal) unless the cabal shares costs, when each
        member pays an equal share of it (per query it receives, which is the source's
        count in expectation: members are sampled alike). A cabal that shares costs keeps
        its source from leaving on losses the others are spared (claim 12)."""
        ensure_cabals(group.model, *ctx.netuids)
        k = len(group)
        cabal, source, size = cls._sources(group)
        pays = source == np.arange(k)
        hours = ctx.epoch_hours
        # each member's chance to be sampled in a round on its subnet
        n_miners = np.maximum(np.count_nonzero(ctx.is_miner, axis=1), 1)[group.rows]
        p = np.minimum(1.0, ctx.params.work.sample_size / n_miners)
        sampled = p > 0
        hit = np.where(sampled, (1.0 - (1.0 - p) ** size) / np.where(sampled, p, 1.0), 1.0)
        share = np.where(group.param("share_costs")[source] == 1, 1.0 / size,
                         np.where(pays, 1.0, 0.0))
        return Production(
            quality=group.param("quality")[source],
            answer_key=np.where(cabal >= 0, cabal, -1),
            fixed_cost_usd=group.param("hosting_usd_per_hour") * hours
            + share * group.param("gpu_usd_per_hour")[source] * hours,
            query_cost_usd=share * group.param("query_cost_usd")[source] * hit,
            computes=pays,
        )

    @staticmethod
    @kept("cabal")
    def _sources(group: Group) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cabal, source, size) per member: its cabal (-1: none), the index of the member
        whose answers it returns (its cabal's leader if the leader is here, else its
        lowest account) and its cabal's size here (a cabal is one subnet's)."""
        model = group.model
        k = len(group)
        cabal = model.columns.get("cabal", group.accts, -1.0).astype(np.int64)
        source = np.arange(k)  # a member outside any cabal is its own source
        size = np.ones(k)
        keyed = np.flatnonzero(cabal >= 0)
        if len(keyed):
            ids, inverse, counts = np.unique(cabal[keyed], return_inverse=True,
                                             return_counts=True)
            by_acct = np.argsort(group.accts, kind="stable")  # members by account
            keyed_by_acct = by_acct[cabal[by_acct] >= 0]
            _, first = np.unique(cabal[keyed_by_acct], return_index=True)
            lowest = keyed_by_acct[first]  # each cabal's member with the lowest account
            leaders = np.array([model.cabals[int(c)]["leader"] for c in ids], dtype=np.int64)
            at = by_acct[np.minimum(np.searchsorted(group.accts[by_acct], leaders), k - 1)]
            lead_here = (group.accts[at] == leaders) & (cabal[at] == ids)
            src = np.where(lead_here, at, lowest)
            source[keyed] = src[inverse]
            size[keyed] = counts[inverse]
        return cabal, source, size


@lru_cache(maxsize=32)
def _menu_arrays(menu: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(quality, GPU USD per hour, USD per query) of a model-arbitrage menu (read-only)."""
    out = (np.array([o.quality for o in menu]),
           np.array([o.gpu_usd_per_hour for o in menu]),
           np.array([o.query_cost_usd for o in menu]))
    for a in out:
        a.flags.writeable = False
    return out


@dataclass(frozen=True)
class ModelOption:
    """One entry of a model-arbitrage menu: a model on a provider, its quality and costs."""

    name: str
    quality: float
    gpu_usd_per_hour: float
    query_cost_usd: float


@register
class ModelArbitrageMiner(Miner):
    """Model arbitrage: runs the cheapest model whose observed income keeps it profitable.

    A menu of models and providers (``MENU``, MODEL.md section 8 figures): bit 1
    ``llama-2-70b`` on a rented A100 (quality 0.69, $1.6 an hour), bit 2 ``mixtral-8x7b``
    on an A100 (0.83, $1.6 an hour), bit 4 ``gpt-3.5-turbo`` by API (0.79, $0.001 a query),
    bit 8 ``gpt-4-turbo`` by API (0.93, $0.02 a query); ``allowed`` is the sum of the bits
    it may use. The miner keeps, per option, a moving average of the income it
    observed while running it (state ``inc<j>``; NaN: not tried), ignoring the first
    ``settle`` epochs after a switch while validators' scores catch up. Every ``dwell``
    epochs at the earliest it estimates each option's profit per epoch (income estimate
    minus cost at its current traffic) and runs the cheapest option that is untried or
    profitable (profit > ``margin`` x cost); if none is, the least unprofitable. With
    probability ``explore`` per decision it forgets one other option's estimate, so a
    cheaper option is tried again when the statistics may have changed. Its own history
    only, drawn from the model's decision stream.

    Tests claims 5 and 2 of MODEL.md section 7 (pass-through vs GPU; flat payouts: if
    quality barely moves income, arbitrage drifts to the cheapest model). The report: "We
    run a model arbitrage play that iteratively determines the lowest cost model across
    many cloud services that still has an acceptable win rate for a given subnetwork. We
    then run this all day every day until the statistics change, and then we switch
    accordingly."
    """

    name = "model_arbitrage"
    MENU: ClassVar[tuple[ModelOption, ...]] = (
        ModelOption("llama-2-70b", 0.69, A100_USD_PER_HOUR, 0.0),
        ModelOption("mixtral-8x7b", 0.83, A100_USD_PER_HOUR, 0.0),
        ModelOption("gpt-3.5-turbo", 0.79, 0.0, GPT35_TURBO_USD_PER_QUERY),
        ModelOption("gpt-4-turbo", GPT4_TURBO_QUALITY, 0.0, GPT4_TURBO_USD_PER_QUERY),
    )
    classifier: ClassVar[dict] = {
        "role": "miner",
        "cost_model": "that of the option it runs (GPU rent or per query)",
        "colludes": False,
        "stochastic": True,
        "needs_gpu": False,
        "grades": False,
        "copies": False,
        "adapts": True,
    }
    params: ClassVar[dict[str, Param]] = {
        "start_option": Param(3, doc="option it starts with",
                              choices=tuple(o.name for o in MENU)),
        "allowed": Param(15, 1, 2 ** len(MENU) - 1,
                         "sum of the bits (1, 2, 4, 8) of the options it may use", integer=True),
        "dwell": Param(20, 1, 100_000, "epochs at least between decisions", integer=True),
        "settle": Param(10, 0, 100_000, "epochs after a switch whose income is ignored",
                        integer=True),
        "income_rate": Param(0.2, 0.001, 1, "weight of an epoch in an option's income average"),
        "margin": Param(0.0, 0, 10, "profit needed, as a fraction of the option's cost"),
        "explore": Param(0.05, 0, 1, "chance per decision to forget another option's estimate"),
        "server_usd_per_hour": Param(HOSTING_USD_PER_HOUR, 0, None, "its own server, USD/hour"),
        "cabal_tag": cabal_param(-1),
    }

    @classmethod
    def check_params(cls, values: dict[str, float]) -> None:
        if not int(values["allowed"]) >> int(values["start_option"]) & 1:
            raise ValueError(
                f"{cls.name}.start_option ({cls.MENU[int(values['start_option'])].name}) must "
                f"be one of the options in {cls.name}.allowed (mask {int(values['allowed'])})"
            )
        if values["settle"] >= values["dwell"]:
            raise ValueError(
                f"{cls.name}.settle ({values['settle']:g}) must be smaller than "
                f"{cls.name}.dwell ({values['dwell']:g}): it needs settled epochs to observe"
            )

    @classmethod
    def menu_arrays(cls) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(quality, GPU USD per hour, USD per query) of the menu options."""
        return tuple(a.copy() for a in _menu_arrays(cls.MENU))  # type: ignore[return-value]

    @classmethod
    def produce(cls, group: Group, ctx: SubnetContext) -> Production:
        k, n_opt = len(group), len(cls.MENU)
        quality, gpu, per_query = _menu_arrays(cls.MENU)
        rows = np.arange(k)
        stored_opt = group.state("option", np.nan)
        opt = np.where(np.isnan(stored_opt), group.param("start_option"), stored_opt)
        opt = opt.astype(np.int64)
        stored_since = group.state("since", np.nan)  # epoch of the last switch
        since = np.where(np.isnan(stored_since), ctx.epoch, stored_since)
        stored_checked = group.state("checked", np.nan)  # epoch of the last decision
        checked = np.where(np.isnan(stored_checked), ctx.epoch, stored_checked)
        age = ctx.epoch - since
        inc = np.empty((k, n_opt))
        for j in range(n_opt):
            inc[:, j] = group.state(f"inc{j}", np.nan)
        # last epoch's income belongs to the current option once validators caught up
        observe = age > group.param("settle")
        income = group.model.columns.get("income_usd", group.accts, 0.0)
        rate = group.param("income_rate")
        cur = inc[rows, opt]
        inc[rows, opt] = np.where(
            observe, np.where(np.isnan(cur), income, (1 - rate) * cur + rate * income), cur
        )
        decide = ctx.epoch - checked >= group.param("dwell")
        decided = bool(decide.any())
        if decided:
            new = cls._decide(group, ctx, inc, opt, decide)
            since = np.where(new != opt, ctx.epoch, since)
            checked = np.where(decide, ctx.epoch, checked)
            opt = new
        # write the state back where it may have changed (rewriting equal values is a no-op)
        if decided or (stored_opt != opt).any():  # NaN compares unequal
            group.set_state("option", opt)
        if decided or np.isnan(stored_since).any():
            group.set_state("since", since)
        if decided or np.isnan(stored_checked).any():
            group.set_state("checked", checked)
        for j in range(n_opt):
            group.set_state(f"inc{j}", inc[:, j])
        hours = ctx.epoch_hours
        return Production.own_answers(
            quality=quality[opt],
            fixed_cost_usd=(gpu[opt] + group.param("server_usd_per_hour")) * hours,
            query_cost_usd=per_query[opt],
        )

    @classmethod
    def _decide(
        cls, group: Group, ctx: SubnetContext, inc: np.ndarray, opt: np.ndarray,
        decide: np.ndarray,
    ) -> np.ndarray:
        """The option each member runs next (changes only where ``decide``); may forget
        estimates in ``inc`` (in place)."""
        k, n_opt = inc.shape
        _, gpu, per_query = _menu_arrays(cls.MENU)
        allowed = (group.param("allowed").astype(np.int64)[:, None] >> np.arange(n_opt)) & 1 > 0
        # forget one other allowed option's estimate now and then (the statistics change)
        u, pick = ctx.draws(group, decide, lambda rng, m: (rng.random(m),
                                                            rng.integers(0, n_opt, size=m)))
        forget = decide & (u < group.param("explore"))
        forget &= allowed[np.arange(k), pick] & (pick != opt)
        inc[np.flatnonzero(forget), pick[forget]] = np.nan
        queries = ctx.queries_received[group.rows, group.uids]
        server = group.param("server_usd_per_hour")[:, None]
        cost = (gpu[None, :] + server) * ctx.epoch_hours + per_query[None, :] * queries[:, None]
        profit = inc - cost
        ok = allowed & (np.isnan(profit) | (profit > group.param("margin")[:, None] * cost))
        cheapest = np.argmin(np.where(ok, cost, np.inf), axis=1)
        known = allowed & ~np.isnan(profit)
        least_bad = np.argmax(np.where(known, profit, -np.inf), axis=1)
        choice = np.where(ok.any(axis=1), cheapest, least_bad)
        return np.where(decide, choice, opt)


@register
class LazyMiner(Miner):
    """Lazy (garbage) miner: answers nothing useful, at no cost.

    The baseline of the miner strategies (MODEL.md section 6): quality ``quality``
    (default 0), no GPU, no API, no compute. Whatever it earns is what the network pays
    for nothing; a stake attacker runs these as its own miners. Tests claims 2 and 6 of
    MODEL.md section 7 (flat payouts; graders that cannot tell good from bad). The report:
    "Miners not running absolute state-of-the-art models will either be downranked and
    booted or randomly allocated tokens as validators maximizing profits don't actually
    care about result quality".
    """

    name = "lazy_miner"
    classifier: ClassVar[dict] = {
        "role": "miner",
        "cost_model": "none",
        "colludes": False,
        "stochastic": False,
        "needs_gpu": False,
        "grades": False,
        "copies": False,
        "adapts": False,
    }
    params: ClassVar[dict[str, Param]] = {
        "quality": Param(0.0, 0, 1, "true answer quality of its blank answers"),
        "cabal_tag": cabal_param(-1),
    }

    @classmethod
    def produce(cls, group: Group, ctx: SubnetContext) -> Production:
        return Production.own_answers(quality=group.param("quality"), computes=False)
