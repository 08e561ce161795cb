"""The two eras of the chain as tables of rule defaults, each value with its source.

MODEL.md section 9: every scenario names its era, ``dec2023`` (the network the report
describes) or ``dtao`` (dynamic TAO, today's network); the era sets the default of every
rule, a scenario may still override any single one, and the manifest records the era and
every effective value. This module is plain data and three functions, independent of how
``world.params`` declares parameters: :func:`effective` gives an era's values with
overrides, :func:`manifest` lists every effective value with its default, whether it was
overridden and its source, and :func:`era_variants` names the switches an era offers.

Keys are dotted ``section.name``; sections that ``world.params`` already has
(``network``, ``subnet``, ``yuma``, ``registration``, ``economy``) use its field names, the
others (``root``, ``stake``, ``dtao``) are rules of one era.

Sources: opentensor/subtensor at the commit of 2023-12-20 (ed39ff34, "Up spec version to
141") and at the commit of 2026-06-30 (14bc6f9f, main). ``runtime:`` cites
``runtime/src/lib.rs`` of the same commit; other paths are under ``pallets/subtensor/src``
unless they name another pallet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "APPLIED",
    "APPLIED_POOLS",
    "ERAS",
    "ERA_NAMES",
    "WORLD_FIELDS",
    "Rule",
    "effective",
    "era_variants",
    "applied_rules",
    "fill_scenario",
    "manifest",
    "markdown_table",
    "world_manifest",
]

U16_MAX = 65_535
U64_MAX = 2**64 - 1
BLOCKS_PER_DAY = 7_200


@dataclass(frozen=True)
class Rule:
    """One rule's default in one era and where it comes from."""

    value: Any
    source: str


_C23 = "subtensor@2023-12-20 "
_C26 = "subtensor@2026-06-30 "

DEC2023: dict[str, Rule] = {
    # -- time and subnets ------------------------------------------------------------------
    "network.tempo": Rule(360, _C23 + "root.rs user_add_network: init_new_network(netuid, 360)"),
    "subnet.n_uids": Rule(256, _C23 + "root.rs init_new_network: set_max_allowed_uids(256)"),
    "subnet.activity_cutoff": Rule(5_000, _C23 + "runtime: SubtensorInitialActivityCutoff"),
    "subnet.weights_rate_limit": Rule(100, _C23 + "lib.rs DefaultWeightsSetRateLimit"),
    "subnet.commit_reveal": Rule(False, _C23 + "weights.rs: do_set_weights only (no commit)"),
    "subnet.reveal_period": Rule(0, _C23 + "weights.rs: weights used as set"),
    # -- Yuma ------------------------------------------------------------------------------
    "yuma.version": Rule("yuma2", _C23 + "epoch.rs epoch: column-normalised EMA bonds"),
    "yuma.kappa": Rule(32_767 / U16_MAX, _C23 + "runtime: SubtensorInitialKappa 32_767"),
    "yuma.bonds_penalty": Rule(1.0, _C23 + "epoch.rs epoch: bonds from clipped weights"),
    "yuma.bonds_ema_rate": Rule(
        0.1, _C23 + "epoch.rs epoch: alpha = 1 - BondsMovingAverage/1e6, 900_000 (runtime)"),
    "yuma.liquid_alpha": Rule(False, _C23 + "epoch.rs epoch: one EMA rate"),
    "yuma.max_validators": Rule(
        64, _C23 + "root.rs init_new_network: set_max_allowed_validators(64)"),
    "subnet.owner_exempt": Rule(
        False, _C23 + "epoch.rs epoch: inplace_mask_diag(weights) for every UID, permits "
        "by stake only; registration.rs get_neuron_to_prune: no owner exception"),
    "subnet.bond_reset": Rule(
        "pair", _C23 + "epoch.rs epoch: vec_mask_sparse_matrix(bonds, last_update, "
        "block_at_registration, updated <= registered)"),
    # -- emission --------------------------------------------------------------------------
    "economy.fixed_emission_per_block": Rule(
        1.0, _C23 + "lib.rs DefaultBlockEmission 1_000_000_000 RAO (no halving code yet)"),
    "economy.initial_issuance_tao": Rule(
        5_600_000.0, "MODEL.md section 8: total issuance in December 2023"),
    "economy.subnet_split": Rule("root", _C23 + "root.rs root_epoch"),
    "economy.owner_share": Rule(
        0.18, _C23 + "block_step.rs generate_emission: SubnetOwnerCut 11_796/65535"),
    "economy.validator_take": Rule(
        0.18, _C23 + "root.rs do_root_register / staking.rs: delegate take 11_796/65535"),
    "economy.miner_pay": Rule(
        "stake", _C23 + "block_step.rs emit_inflation_through_hotkey_account: "
        "increase_stake_on_hotkey_account(server_emission)"),
    # -- root network ----------------------------------------------------------------------
    "root.max_validators": Rule(
        64, _C23 + "root.rs get_max_root_validators = max_allowed_uids(root) (senate size)"),
    "root.rho": Rule(10.0, _C23 + "root.rs root_epoch: get_rho(0), runtime SubtensorInitialRho"),
    "root.kappa": Rule(
        32_767 / U16_MAX, _C23 + "root.rs root_epoch: get_float_kappa(0), InitialKappa"),
    # -- stake -----------------------------------------------------------------------------
    "economy.stake_scope": Rule(
        "global", _C23 + "uids.rs get_stake_for_uid_and_subnetwork = "
        "get_total_stake_for_hotkey (one number for every subnet)"),
    "economy.dereg_unstakes": Rule(
        True, _C23 + "uids.rs replace_neuron: unstake_all_coldkeys_from_hotkey_account "
        "when the hotkey has no other registration"),
    # -- registration ----------------------------------------------------------------------
    "registration.burn_rule": Rule(
        "interval", _C23 + "block_step.rs adjust_registration_terms_for_networks"),
    "registration.initial_burn_tao": Rule(1.0, _C23 + "runtime: SubtensorInitialBurn 1 TAO"),
    "registration.min_burn_tao": Rule(
        1e-9, _C23 + "root.rs init_new_network: set_min_burn(netuid, 1) (1 RAO)"),
    "registration.max_burn_tao": Rule(100.0, _C23 + "runtime: SubtensorInitialMaxBurn 100 TAO"),
    "registration.target_per_interval": Rule(
        1, _C23 + "root.rs init_new_network: set_target_registrations_per_interval(1)"),
    "registration.adjustment_interval": Rule(
        360, _C23 + "root.rs init_new_network: set_adjustment_interval(360)"),
    "registration.adjustment_alpha": Rule(
        58_000 / U64_MAX, _C23 + "root.rs init_new_network: set_adjustment_alpha(58000), "
        "block_step.rs adjust_burn divides by u64::MAX"),
    "registration.immunity_period": Rule(
        5_000, _C23 + "root.rs init_new_network: set_immunity_period(5000)"),
    "registration.pruning": Rule(
        "score", _C23 + "registration.rs get_neuron_to_prune; epoch.rs pruning_scores"),
    "network.subnet_limit": Rule(32, "MODEL.md section 8: 32 subnets in December 2023"),
    "network.min_lock_tao": Rule(1_000.0, _C23 + "runtime: SubtensorInitialMinLockCost"),
    "network.lock_reduction_interval": Rule(
        14 * BLOCKS_PER_DAY, _C23 + "runtime: SubtensorInitialNetworkLockReductionInterval"),
    "network.subnet_immunity_period": Rule(
        7 * BLOCKS_PER_DAY, _C23 + "runtime: SubtensorInitialNetworkImmunity"),
}

DTAO: dict[str, Rule] = {
    "network.tempo": Rule(360, _C26 + "runtime: INITIAL_SUBNET_TEMPO 360"),
    "subnet.n_uids": Rule(256, _C26 + "subnets/subnet.rs init_new_network: 256"),
    "subnet.activity_cutoff": Rule(5_000, _C26 + "runtime: SubtensorInitialActivityCutoff"),
    "subnet.weights_rate_limit": Rule(100, _C26 + "lib.rs DefaultWeightsSetRateLimit"),
    "subnet.commit_reveal": Rule(True, "MODEL.md section 3: commit-reveal on by default"),
    "subnet.reveal_period": Rule(1, "MODEL.md section 3: reveal period 1 epoch"),
    "yuma.version": Rule(
        "yuma3", _C26 + "subnets/subnet.rs init_new_network: set_yuma3_enabled(true)"),
    "yuma.kappa": Rule(32_767 / U16_MAX, _C26 + "runtime: SubtensorInitialKappa 32_767"),
    "yuma.bonds_penalty": Rule(1.0, _C26 + "runtime: SubtensorInitialBondsPenalty u16::MAX"),
    "yuma.bonds_ema_rate": Rule(
        0.1, _C26 + "runtime: SubtensorInitialBondsMovingAverage 900_000"),
    "yuma.liquid_alpha": Rule(False, _C26 + "lib.rs LiquidAlphaOn, DefaultLiquidAlpha false"),
    "yuma.max_validators": Rule(64, _C26 + "subnets/subnet.rs init_new_network: 64"),
    "subnet.owner_exempt": Rule(
        True, _C26 + "epoch/run_epoch.rs epoch_mechanism: the owner UID's stake unfiltered, "
        "permit forced, mask_diag_sparse_except_index; coinbase/run_coinbase.rs "
        "distribute_dividends_and_incentives: incentive to owner hotkeys burned"),
    "subnet.bond_reset": Rule(
        "column", _C26 + "epoch/run_epoch.rs epoch_mechanism: inplace_mask_cols("
        "recently_registered, bonds), registered at or after the last tempo"),
    "economy.fixed_emission_per_block": Rule(
        None, _C26 + "coinbase/block_emission.rs get_block_emission_for_issuance"),
    "economy.initial_issuance_tao": Rule(
        11_180_000.0, "10.5M at the first halving (December 2025) + 0.5 TAO x 7,200 "
        "blocks x ~190 days to 2026-06-30"),
    "economy.subnet_split": Rule(
        "price_ema", _C26 + "coinbase/subnet_emissions.rs get_shares"),
    "economy.owner_share": Rule(
        0.18, _C26 + "coinbase/run_coinbase.rs emit_to_subnets: owner cut 11_796/65535"),
    "economy.validator_take": Rule(
        0.18, _C26 + "runtime: SubtensorInitialDefaultTake 11_796 (the maximum)"),
    "economy.miner_pay": Rule(
        "stake", _C26 + "coinbase/run_coinbase.rs distribute_dividends_and_incentives: "
        "increase_stake_for_hotkey_and_coldkey_on_subnet(incentive)"),
    "economy.stake_scope": Rule(
        "subnet", _C26 + "staking/stake_utils.rs: stake is alpha per subnet"),
    "economy.dereg_unstakes": Rule(
        False, _C26 + "subnets/uids.rs replace_neuron: no unstake (stake belongs to the "
        "(hotkey, coldkey) pair on a subnet, not to the UID)"),
    "dtao.tao_weight": Rule(
        0.18, "MODEL.md section 9: set by governance, about 0.18 on main "
        "(runtime default SubtensorInitialTaoWeight is 0.0527)"),
    "dtao.pool_fee": Rule(33 / U16_MAX, "pallets/swap impls.rs calculate_fee_amount, FeeRate 33"),
    "dtao.alpha_per_block": Rule(
        1.0, _C26 + "coinbase/run_coinbase.rs get_subnet_terms: "
        "get_block_emission_for_issuance(alpha_issuance)"),
    "dtao.moving_alpha": Rule(0.000003, _C26 + "lib.rs DefaultMovingAlpha"),
    "dtao.ema_price_halving_blocks": Rule(
        201_600, _C26 + "runtime: InitialEmaPriceHalvingPeriod (4 weeks)"),
    "dtao.flow_shares": Rule(
        False, _C26 + "coinbase/subnet_emissions.rs get_shares (price EMA; get_shares_flow "
        "was the rule from late 2025 to June 2026)"),
    "dtao.flow_half_life": Rule(216_000, _C26 + "lib.rs FlowHalfLife (one month of blocks)"),
    "dtao.flow_cutoff": Rule(0.0, _C26 + "lib.rs DefaultFlowCutoff"),
    "dtao.flow_exponent": Rule(1.0, _C26 + "lib.rs DefaultFlowNormExponent"),
    "dtao.injection_cap": Rule(
        "root_proportion", _C26 + "coinbase/run_coinbase.rs get_subnet_terms: "
        "alpha_in <= root_proportion * alpha_emission"),
    "dtao.root_sell_requires_price_sum": Rule(
        True, _C26 + "coinbase/run_coinbase.rs get_network_root_sell_flag: sum of EMA "
        "prices > 1, else root alpha is recycled"),
    "registration.burn_rule": Rule(
        "price", _C26 + "subnets/registration.rs update_registration_prices_for_networks, "
        "bump_registration_price_after_registration"),
    "registration.initial_burn_tao": Rule(1.0, _C26 + "lib.rs DefaultNeuronBurnCost 1 TAO"),
    "registration.min_burn_tao": Rule(0.0005, _C26 + "runtime: SubtensorInitialMinBurn"),
    "registration.max_burn_tao": Rule(100.0, _C26 + "runtime: SubtensorInitialMaxBurn"),
    "registration.burn_increase_mult": Rule(1.26, _C26 + "lib.rs DefaultBurnIncreaseMult"),
    "registration.burn_half_life": Rule(360, _C26 + "lib.rs DefaultBurnHalfLife"),
    "registration.immunity_period": Rule(
        5_000, _C26 + "subnets/subnet.rs init_new_network: set_immunity_period(5000)"),
    "registration.pruning": Rule(
        "emission", _C26 + "subnets/registration.rs get_neuron_to_prune"),
    "registration.min_non_immune_uids": Rule(10, _C26 + "lib.rs DefaultMinNonImmuneUids"),
    "network.subnet_limit": Rule(128, _C26 + "lib.rs DefaultSubnetLimit"),
    "network.min_lock_tao": Rule(1_000.0, _C26 + "runtime: SubtensorInitialMinLockCost"),
    "network.lock_reduction_interval": Rule(
        14 * BLOCKS_PER_DAY, _C26 + "runtime: SubtensorInitialNetworkLockReductionInterval"),
    "network.subnet_immunity_period": Rule(
        1_296_000, _C26 + "runtime: SubtensorInitialNetworkImmunity"),
}

ERAS: dict[str, dict[str, Rule]] = {"dec2023": DEC2023, "dtao": DTAO}
ERA_NAMES = tuple(ERAS)

# Named switches of an era: a set of overrides with its reason (issue 15 asks for the
# SN1 hyperparameters as a switch, since which of them SN1 ran with is not verifiable).
_VARIANTS: dict[str, dict[str, tuple[dict[str, Any], str]]] = {
    "dec2023": {
        "sn1_legacy": (
            {"network.tempo": 99, "yuma.max_validators": 128,
             "registration.immunity_period": 4_096},
            _C23 + "runtime: SubtensorInitialTempo 99, InitialMaxAllowedValidators 128, "
            "InitialImmunityPeriod 4096 (the genesis defaults older subnets kept unless "
            "changed by sudo; whether SN1 ran with them is not verifiable from code)",
        ),
    },
    "dtao": {
        "flow_shares": (
            {"dtao.flow_shares": True, "dtao.injection_cap": "alpha_emission"},
            _C26 + "coinbase/subnet_emissions.rs get_shares_flow; before commit c3841130c "
            "(2026-06-22) the alpha injection cap was min(alpha emission, TAO block "
            "emission) in run_coinbase.rs get_subnet_terms",
        ),
    },
}


def _era(era: str) -> dict[str, Rule]:
    if era not in ERAS:
        raise ValueError(f"era must be one of {', '.join(map(repr, ERA_NAMES))}, got {era!r}")
    return ERAS[era]


def era_variants(era: str) -> dict[str, tuple[dict[str, Any], str]]:
    """The named switches of ``era``: name -> (overrides, source)."""
    _era(era)
    return {k: (dict(v[0]), v[1]) for k, v in _VARIANTS.get(era, {}).items()}


def _resolve(
    era: str, overrides: Mapping[str, Any] | None, variant: str | None
) -> tuple[dict[str, Rule], dict[str, tuple[Any, str]]]:
    """The era's table and the overrides that apply (variant first, then the scenario's),
    each with where it comes from."""
    table = _era(era)
    applied: dict[str, tuple[Any, str]] = {}
    if variant is not None:
        variants = _VARIANTS.get(era, {})
        if variant not in variants:
            names = ", ".join(map(repr, variants)) or "none"
            raise ValueError(f"variant of era {era!r} must be one of {names}, got {variant!r}")
        values, source = variants[variant]
        applied.update({k: (v, f"variant {variant}: {source}") for k, v in values.items()})
    for key, value in (overrides or {}).items():
        if key not in table:
            raise ValueError(
                f"{key!r} is not a rule of era {era!r}; its rules are: {', '.join(sorted(table))}"
            )
        applied[key] = (value, "scenario override")
    return table, applied


def effective(
    era: str, overrides: Mapping[str, Any] | None = None, variant: str | None = None
) -> dict[str, Any]:
    """Every rule of ``era`` with its effective value (variant, then ``overrides``, win).

    Raises ``ValueError`` naming an unknown era, variant or rule key. Values are not
    range-checked here: ``world.params`` validates them where they are used.
    """
    table, applied = _resolve(era, overrides, variant)
    return {key: applied[key][0] if key in applied else rule.value
            for key, rule in table.items()}


def manifest(
    era: str, overrides: Mapping[str, Any] | None = None, variant: str | None = None
) -> list[dict[str, Any]]:
    """Every effective value of ``era`` for the run's manifest, sorted by key.

    Each entry: ``key``, ``value`` (effective), ``default`` (the era's), ``overridden``
    (bool) and ``source`` (the era's source, or the variant's or "scenario override").
    """
    table, applied = _resolve(era, overrides, variant)
    rows = []
    for key in sorted(table):
        rule = table[key]
        value, source = applied.get(key, (rule.value, rule.source))
        rows.append({"key": key, "value": value, "default": rule.value,
                     "overridden": key in applied, "source": source})
    return rows


def markdown_table() -> str:
    """The rules of both eras side by side as a Markdown table (docs/world.md holds it; a
    test keeps the two equal)."""

    def cell(era: str, key: str) -> str:
        rule = ERAS[era].get(key)
        if rule is None:
            return "-"
        v = rule.value
        text = f"{v:.6g}" if isinstance(v, float) else repr(v) if isinstance(v, str) else str(v)
        return f"`{text}`"

    keys = sorted(set(DEC2023) | set(DTAO))
    lines = ["| rule | dec2023 | dtao | sources (dec2023; dtao) |", "|---|---|---|---|"]
    for key in keys:
        sources = "; ".join(ERAS[e][key].source for e in ERA_NAMES if key in ERAS[e])
        lines.append(f"| `{key}` | {cell('dec2023', key)} | {cell('dtao', key)} | {sources} |")
    return "\n".join(lines) + "\n"


# -- the eras in the world's parameters ------------------------------------------------

# Where each rule lives in a scenario (``world.params.NetworkParams``): a key path, ``*``
# standing for every subnet. Rules not listed here are not (yet) parameters of the world.
WORLD_FIELDS: dict[str, tuple[str, ...]] = {
    "network.tempo": ("tempo",),
    **{f"subnet.{k}": ("subnets", "*", k) for k in (
        "n_uids", "activity_cutoff", "weights_rate_limit", "commit_reveal", "reveal_period",
        "bond_reset", "owner_exempt")},
    **{f"yuma.{k}": ("subnets", "*", "yuma", k) for k in (
        "version", "kappa", "bonds_penalty", "bonds_ema_rate", "liquid_alpha",
        "max_validators")},
    **{f"registration.{k}": ("subnets", "*", "registration", k) for k in (
        "initial_burn_tao", "min_burn_tao", "max_burn_tao", "target_per_interval",
        "adjustment_interval", "immunity_period", "burn_rule", "pruning", "burn_increase_mult",
        "burn_half_life")},
    **{f"economy.{k}": ("economy", k) for k in (
        "fixed_emission_per_block", "initial_issuance_tao", "subnet_split", "owner_share",
        "validator_take", "miner_pay", "stake_scope", "dereg_unstakes")},
    **{f"root.{k}": ("root", k) for k in ("max_validators", "rho", "kappa")},
    **{f"dtao.{k}": ("dtao", k) for k in (
        "tao_weight", "flow_shares", "flow_cutoff", "flow_exponent", "injection_cap",
        "moving_alpha", "ema_price_halving_blocks", "pool_fee",
        "root_sell_requires_price_sum")},
}

# The rules whose era default a scenario takes when it does not give the value itself.
# ``dtao`` is today's world exactly as it was before the eras (its own defaults, which
# existing files' results rely on) until its rules are wired (issue 16).
APPLIED: dict[str, frozenset[str]] = {
    "dec2023": frozenset(k for k in WORLD_FIELDS if k in DEC2023),
    "dtao": frozenset(),
}
# A ``dtao`` scenario that turns the pools on (``dtao.pools: true``, world.coinbase) takes
# every rule of today's chain the world has as a parameter (Yuma 3, commit-reveal, 0.5 TAO
# per block from today's issuance, today's burns...): the pools are opt-in, so files
# written before them keep their world and their results (docs/eras.md, "Wiring").
# Not applied: the subnets' split (world.coinbase's own) and miner pay (world.coinbase
# pays staked alpha, which miners sell with ``dtao.miners_sell``).
APPLIED_POOLS = frozenset(k for k in WORLD_FIELDS if k in DTAO and k not in (
    "economy.subnet_split", "economy.miner_pay"))


def applied_rules(era: str, pools: bool = False) -> frozenset[str]:
    """The rules whose era default a scenario takes when it does not give them."""
    return APPLIED_POOLS if era == "dtao" and pools else APPLIED[era]


def fill_scenario(raw: Mapping[str, Any], era: str, variant: str | None = None) -> dict[str, Any]:
    """A copy of the scenario section ``raw`` (plain nested dicts, as written in a file)
    with each applied rule of ``era`` (and its variant) filled in where ``raw`` does not
    give it; what ``raw`` gives always wins (a scenario overrides any single rule)."""
    values = effective(era, None, variant)
    out: dict[str, Any] = dict(raw)
    section = raw.get("dtao")
    applied = applied_rules(era, isinstance(section, Mapping) and section.get("pools") is True)
    if any(WORLD_FIELDS[k][0] == "subnets" for k in applied):
        subnets = out.get("subnets")
        if subnets is None:
            subnets = [{}]  # the world's default: one subnet
        if isinstance(subnets, list):
            out["subnets"] = [dict(s) if isinstance(s, Mapping) else s for s in subnets]
    for key in sorted(applied):
        _fill(out, WORLD_FIELDS[key], values[key])
    return out


def _fill(node: Any, path: tuple[str, ...], value: Any) -> None:
    """Set ``path`` in ``node`` to ``value`` unless given (malformed parts are left for the
    schema to report)."""
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(node, list):
            for item in node:
                _fill(item, rest, value)
        return
    if not isinstance(node, dict):
        return
    if not rest:
        node.setdefault(head, value)
        return
    child = node.get(head)
    if child is None:
        child = node[head] = {}
    elif isinstance(child, Mapping):
        child = node[head] = dict(child)
    _fill(child, rest, value)


def _read(obj: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` of a ``NetworkParams``; one value, or the list of the subnets'
    values when they differ."""
    head, rest = path[0], path[1:]
    if head == "*":
        values = [_read(item, rest) for item in obj]
        return values[0] if all(v == values[0] for v in values) else values
    value = getattr(obj, head)
    return _read(value, rest) if rest else value


def world_manifest(params: Any) -> dict[str, Any]:
    """The era of a ``NetworkParams`` and every rule of it for the run's manifest.

    Each rule: ``key``, ``value`` (the value the world runs with, read from ``params``;
    the era's default for a rule the world does not take as a parameter), ``default``
    (the era's, after its variant), ``overridden`` (the value differs from the default),
    ``wired`` (whether the world reads the rule from its parameters), ``applied`` (whether
    a scenario that does not give it takes the era's default) and ``source``.
    """
    era, variant = params.era, params.era_variant
    rows = manifest(era, None, variant)
    for row in rows:
        key = row["key"]
        row["default"] = row.pop("value")
        row["wired"] = key in WORLD_FIELDS
        row["value"] = _read(params, WORLD_FIELDS[key]) if row["wired"] else row["default"]
        if params.dtao.pools and key in ("economy.subnet_split", "economy.miner_pay"):
            # with pools, world.coinbase splits by moving price (or inflow) and pays
            # miners staked alpha, whatever these two fields of the other worlds say
            row["value"] = {"economy.miner_pay": "stake"}.get(
                key, "net_flow" if params.dtao.flow_shares else "price_ema")
        row["overridden"] = row["value"] != row["default"]
        row["applied"] = key in applied_rules(era, params.dtao.pools)
    return {"era": era, "variant": variant, "rules": rows}
