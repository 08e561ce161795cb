"""The dtao economy wired into the Network (issue 16, MODEL.md section 9, docs/eras.md).

Small networks (16-UID subnets, a few epochs) with ``dtao.pools: true``: the ledger never
creates or loses TAO or any subnet's alpha over random runs with swaps; a stake moves its
pool's price as the ``Pool`` contract says; the TAO emission follows the moving prices;
root dividends go to root stakers pro rata; Yuma sees ``alpha + tao_weight * root``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from agents.catalog import get
from world.alpha_ledger import DtaoLedger
from world.dtao_params import DtaoParams
from world.model import Cohort, Network
from world.params import EconomyParams, NetworkParams, SubnetParams
from world.payout import split_segments
from world.pool import ALPHA_UNITS
from world.yuma import YumaParams

RAO = 1_000_000_000


def network(seed: int = 1, *, k: int = 3, root_stake: float = 0.0, chasers: int = 6,
            extra: tuple[Cohort, ...] = (), **dtao: object) -> Network:
    """k subnets of 16 UIDs (3 validators, 10 miners each), yield chasers, if
    ``root_stake`` three root stakers of 1x, 2x and 3x that stake, and ``extra``."""
    sub = SubnetParams(n_uids=16, yuma=YumaParams(max_validators=8))
    options = {"pools": True, "price": (0.4, 0.3, 0.5, 0.2)[:k],
               "pool_tao": (20_000.0, 10_000.0, 30_000.0, 15_000.0)[:k], **dtao}
    params = NetworkParams(
        subnets=(sub,) * k, economy=EconomyParams(initial_issuance_tao=11_180_000.0),
        dtao=DtaoParams(**options))  # type: ignore[arg-type]
    pop = []
    for j in range(k):
        pop += [Cohort(get("honest_validator"), 3, j), Cohort(get("honest_miner"), 10, j)]
    pop.append(Cohort(get("yield_chaser"), chasers, None, {"switch_delay": 0, "hurdle": 0.0}))
    if root_stake:
        pop += [Cohort(get("root_staker"), 1, None, {"stake_tao": root_stake * m})
                for m in (1, 2, 3)]
    return Network(params, [*pop, *extra], rng=seed)


def identities(ledger: DtaoLedger) -> tuple[int, int, np.ndarray, np.ndarray]:
    """(TAO held, supply, alpha held per subnet, alpha issued per subnet), from scratch."""
    n = ledger.n
    tao = int(ledger.liquid[:n].sum() + ledger.staked[:n].sum()) + sum(
        p.tao_rao for p in ledger.pools) + ledger.transit
    alpha = np.array([
        int(ledger.alpha[:n][ledger.alpha_net[:n] == j].sum()) + p.alpha_units
        + int(ledger.protocol_alpha[j]) for j, p in enumerate(ledger.pools)])
    return tao, ledger.supply, alpha, ledger.alpha_issued.copy()


@pytest.mark.parametrize("seed", [1, 2])
def test_random_runs_with_swaps_never_create_or_lose_tao_or_alpha(seed):
    model = network(seed, root_stake=2_000.0)
    ledger = model.ledger
    assert isinstance(ledger, DtaoLedger)
    rng = np.random.default_rng(seed)
    minted = []
    for _ in range(6):
        minted.append(ledger.minted)
        model.step()
        # random trades between epochs: stakers sell part of their alpha, buyers stake
        holders = np.flatnonzero(ledger.alpha[: ledger.n] > 0)
        sellers = rng.choice(holders, size=5, replace=False)
        units = (ledger.alpha[sellers] * rng.uniform(0, 1, 5)).astype(np.int64)
        ledger.sell(sellers, units)
        buyers = rng.choice(holders, size=5, replace=False)
        spend = (ledger.liquid[buyers] * rng.uniform(0, 1, 5)).astype(np.int64)
        ledger.buy(buyers, spend, ledger.alpha_net[buyers])
        tao, supply, alpha, issued = identities(ledger)
        assert tao == supply
        np.testing.assert_array_equal(alpha, issued)
        ledger.check(model.epoch)
    assert ledger.minted > minted[0]  # emission was minted, and every RAO of it accounted


def test_a_one_unit_alpha_leak_is_caught():
    model = network(3)
    model.step()
    model.ledger.alpha[model.ledger.n - 1] += 1
    model.ledger.alpha_net[model.ledger.n - 1] = 0
    with pytest.raises(Exception, match="subnet 0 holds"):
        model.ledger.check(model.epoch)


def test_a_stake_buys_alpha_and_moves_the_price_as_the_pool_contract_says():
    model = network(4)
    model.step()
    ledger = model.ledger
    assert isinstance(ledger, DtaoLedger)
    val = int(model.subnets[1].occupant[0])  # a validator of subnet 1
    buyer = ledger.open("outside buyer", 5_000 * RAO)
    contract = ledger.pools[1].as_pool()  # the float contract on the same reserves
    price_before = contract.price
    alpha_before = int(ledger.alpha[val])
    ledger.stake(buyer, val, 5_000 * RAO)
    expect_alpha = contract.buy_alpha(5_000.0)
    assert ledger.alpha[buyer] / ALPHA_UNITS == pytest.approx(expect_alpha, rel=1e-9)
    assert ledger.pools[1].price == pytest.approx(contract.price, rel=1e-9)
    assert ledger.pools[1].price > price_before * 1.01  # a large buy lifts the price
    assert ledger.alpha_net[buyer] == 1 and ledger.staked_to[buyer] == val
    assert ledger.hotkey_parts()[0][val] == alpha_before + ledger.alpha[buyer]
    ledger.check(model.epoch)  # the buyer's TAO sits in the pool


def test_a_batch_of_buys_spends_each_buyers_total_and_refuses_more_than_it_holds():
    """``DtaoLedger.buy``: an account that buys twice in one batch spends the sum of its
    orders from its liquid balance; a batch in which one account's orders add up to more
    than it holds is refused, naming it, before anything changes."""
    from world.ledger import LedgerError

    model = network(4)
    model.step()
    ledger = model.ledger
    a = ledger.open("buyer a", 300 * RAO)
    b = ledger.open("buyer b", 100 * RAO)
    before = ledger.liquid.copy(), ledger.alpha.copy(), ledger.pools[1].tao_rao
    with pytest.raises(LedgerError, match="buyer b"):
        ledger.buy(np.array([a, b, b]), np.array([100, 60, 60]) * RAO, np.array([1, 1, 1]))
    assert np.array_equal(ledger.liquid, before[0]) and np.array_equal(ledger.alpha, before[1])
    assert ledger.pools[1].tao_rao == before[2]
    got = ledger.buy(np.array([a, b, a]), np.array([100, 60, 150]) * RAO, np.array([1, 1, 1]))
    assert ledger.liquid[a] == 50 * RAO and ledger.liquid[b] == 40 * RAO
    assert ledger.alpha[a] == got[0] + got[2] and ledger.alpha[b] == got[1] > 0
    assert ledger.pools[1].tao_rao == before[2] + 310 * RAO
    ledger.check(model.epoch)


def test_tao_emission_follows_the_moving_prices():
    model = network(5, chasers=0, miners_sell=False, root_sell_requires_price_sum=False,
                    injection_cap="alpha_emission")
    ledger = model.ledger
    assert isinstance(ledger, DtaoLedger)
    model.step()
    before = ledger.reserves()[0].copy()
    model.step()
    added = (ledger.reserves()[0] - before) / RAO
    moving = model.coinbase.last["moving"]
    np.testing.assert_allclose(model.coinbase.last["share"], moving / moving.sum())
    total = 0.5 * model.params.tempo  # 0.5 TAO per block after the first halving
    np.testing.assert_allclose(added, total * moving / moving.sum(), rtol=1e-8)


def test_flow_switch_shares_by_net_inflow():
    model = network(6, flow_shares=True)
    model.step()  # the genesis purchases are flows of epoch 0
    ledger = model.ledger
    ledger.buy(np.array([model.market]), np.array([100_000 * RAO]), np.array([2]))
    model.step()
    share = model.coinbase.last["share"]
    flow = model.coinbase.flow
    np.testing.assert_allclose(share, np.maximum(flow, 0) / np.maximum(flow, 0).sum())
    assert np.argmax(share) == 2


def test_root_dividends_go_to_root_stakers_pro_rata():
    # sum of moving prices > 1: root alpha is sold for root stakers, not recycled
    model = network(7, root_stake=5_000.0, price=(0.6, 0.5, 0.7))
    ledger = model.ledger
    assert isinstance(ledger, DtaoLedger)
    stakers = np.array([a for a in range(ledger.n) if model.agent_of[a] is not None
                        and model.agent_of[a].name == "root_staker"])
    behind = ledger.staked_to[stakers]
    before = ledger.staked[stakers].copy()
    # root holds TAO 1:1: the endowments are on root to the RAO, no alpha bought
    assert before.tolist() == [5_000 * RAO, 10_000 * RAO, 15_000 * RAO]
    assert ledger.alpha[stakers].sum() == 0
    for _ in range(3):
        model.step()
    gained = ledger.staked[stakers] - before
    assert (gained > 0).all()
    # the same yield per TAO where the hotkey is the same; alpha stakers hold no root
    for hk in set(behind.tolist()):
        on = behind == hk
        rate = gained[on] / before[on]
        np.testing.assert_allclose(rate, rate[0], rtol=1e-6)
    chasers = [a for a in range(ledger.n) if model.agent_of[a] is not None
               and model.agent_of[a].name == "yield_chaser"]
    assert ledger.staked[chasers].sum() == 0


def test_without_root_weight_root_earns_nothing():
    model = network(7, root_stake=5_000.0, price=(0.6, 0.5, 0.7), tao_weight=0.0)
    ledger = model.ledger
    stakers = [a for a in range(ledger.n) if model.agent_of[a] is not None
               and model.agent_of[a].name == "root_staker"]
    before = ledger.staked[stakers].copy()
    model.step()
    model.step()
    np.testing.assert_array_equal(ledger.staked[stakers], before)


def test_yuma_stake_is_alpha_plus_tao_weight_times_root():
    model = network(8, root_stake=3_000.0, tao_weight=0.25)
    model.step()
    ledger = model.ledger
    alpha, root = ledger.hotkey_parts()
    for s in model.subnets:
        occ = s.occupant >= 0
        want = np.floor(alpha[s.occupant[occ]] + 0.25 * root[s.occupant[occ]]) / RAO
        np.testing.assert_allclose(s.stake_tao[occ], want)
    assert root.sum() > 0


def test_moving_between_subnets_sells_and_buys():
    model = network(9)
    model.step()
    ledger = model.ledger
    chaser = next(a for a in range(ledger.n) if model.agent_of[a] is not None
                  and model.agent_of[a].name == "yield_chaser")
    src = int(ledger.alpha_net[chaser])
    dst = (src + 1) % 3
    target = int(model.subnets[dst].occupant[0])
    tao_src = ledger.pools[src].tao_rao
    ledger.redelegate(np.array([chaser]), np.array([target]))
    assert ledger.alpha_net[chaser] == dst and ledger.alpha[chaser] > 0
    assert ledger.pools[src].tao_rao < tao_src
    ledger.check(model.epoch)


def test_momentum_stakers_follow_the_pool_whose_price_rose():
    """A pump on subnet 2 (outside TAO buying its alpha between epochs) makes its price
    trend lead; momentum stakers then move behind subnet 2's largest validator, selling
    the alpha they held and buying subnet 2's, which raises its price further."""
    model = network(4, chasers=0, extra=(Cohort(get("momentum_staker"), 6, None, {
        "switch_delay": 0, "hurdle": 0.0, "stake_tao": 500.0}),))
    model.step()
    ledger = model.ledger
    stakers = np.array([a for a in range(ledger.n) if model.agent_of[a] is not None
                        and model.agent_of[a].name == "momentum_staker"])
    placed = ledger.alpha_net[stakers].copy()
    assert len(set(placed.tolist())) > 1  # placed at random
    ledger.buy(np.array([model.market]), np.array([int(5_000 * RAO)]), np.array([2]))
    price = ledger.prices()[2]
    model.step()
    model.step()
    assert model.coinbase.trend[2] > max(model.coinbase.trend[0], model.coinbase.trend[1])
    vals = model.subnets[2].occupant[model.subnets[2].is_validator]
    largest = vals[np.argmax(ledger.hotkey_value_tao()[vals])]
    # those placed elsewhere moved behind its largest validator; those there stay put
    assert np.all(ledger.staked_to[stakers[placed != 2]] == largest)
    assert np.all(ledger.alpha_net[stakers] == 2) and ledger.prices()[2] > price
    ledger.check(model.epoch)


def test_momentum_stakers_stay_put_without_pools():
    from strategies.base import build, run

    m = build([("honest_validator", 3), ("honest_miner", 8),
               ("momentum_staker", 5, {"switch_delay": 0, "hurdle": 0.0})], seed=3)
    stakers = np.array(sorted(a.acct for a in m.agents if a.name == "momentum_staker"))
    start = m.ledger.staked_to[stakers].copy()
    run(m, 10)
    assert np.array_equal(m.ledger.staked_to[stakers], start)


def _pumped(followers: int, seed: int = 5) -> tuple[Network, int, list[float]]:
    """Subnet 1 (the thinnest pool, 10k TAO) pumped with 5,000 TAO at epoch 2 and dumped
    at epoch 10, with ``followers`` momentum stakers; its price each epoch."""
    extra = [Cohort(get("pump_and_dump"), 1, None, {
        "endowment_tao": 5_000.0, "netuid": 1, "entry_epoch": 2, "hold": 8})]
    if followers:
        extra.append(Cohort(get("momentum_staker"), followers, None, {
            "switch_delay": 0, "hurdle": 0.0, "stake_tao": 800.0}))
    model = network(seed, chasers=0, extra=tuple(extra))
    pumper = next(a for a in range(model.ledger.n) if model.agent_of[a] is not None
                  and model.agent_of[a].name == "pump_and_dump")
    prices = []
    for _ in range(14):
        model.step()
        prices.append(float(model.ledger.prices()[1]))
    return model, pumper, prices


def test_a_pump_lifts_the_price_and_the_dump_returns_everything_to_liquid():
    model, pumper, prices = _pumped(0)
    ledger = model.ledger
    assert prices[2] > 1.15 * prices[1]  # 5,000 TAO into the thinnest pool, at once
    assert prices[10] < 0.85 * prices[9]  # and out again
    assert ledger.staked_to[pumper] == -1 and ledger.alpha[pumper] == 0
    assert ledger.staked[pumper] == 0
    cols = model.columns
    capital = cols.get("PumpAndDump.capital_tao", np.array([pumper]))[0]
    returned = cols.get("PumpAndDump.returned_tao", np.array([pumper]))[0]
    assert capital == pytest.approx(5_000.0)
    assert ledger.liquid[pumper] / RAO == pytest.approx(returned)
    ledger.check(model.epoch)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_pump_with_a_genesis_stake_pumps_all_of_it(seed):
    """A genesis stake placed behind a random validator is unstaked and pumped with the
    liquid TAO (no refused stake), and capital_tao counts all of it."""
    model = network(seed, chasers=0, extra=(Cohort(get("pump_and_dump"), 1, None, {
        "endowment_tao": 1_000.0, "stake_tao": 2_000.0, "netuid": 1, "entry_epoch": 2,
        "hold": 3}),))
    pumper = next(a for a in range(model.ledger.n) if model.agent_of[a] is not None
                  and model.agent_of[a].name == "pump_and_dump")
    for _ in range(7):
        model.step()
    capital = model.columns.get("PumpAndDump.capital_tao", np.array([pumper]))[0]
    assert capital > 2_000.0  # its 1,000 liquid and the stake sold back (at its value then)
    assert model.ledger.alpha[pumper] == 0 and model.ledger.staked_to[pumper] == -1
    model.ledger.check(model.epoch)


def test_a_pump_with_no_validator_on_its_subnet_waits():
    """No validator on the subnet it wants: it does not pump, and so does not 'dump'."""
    model = network(2, chasers=0, extra=(Cohort(get("pump_and_dump"), 1, None, {
        "endowment_tao": 1_000.0, "netuid": 7, "entry_epoch": 1, "hold": 1}),))
    pumper = next(a for a in range(model.ledger.n) if model.agent_of[a] is not None
                  and model.agent_of[a].name == "pump_and_dump")
    for _ in range(4):
        model.step()
    assert model.columns.get("PumpAndDump.phase", np.array([pumper]))[0] == 0.0
    assert model.ledger.liquid[pumper] == 1_000 * RAO


def test_momentum_followers_pay_the_pump():
    """The same pump returns more TAO when momentum stakers buy in behind it."""
    _, alone_acct, _ = _pumped(0)
    alone = _pumped(0)[0].ledger.liquid[alone_acct]
    crowd_model, crowd_acct, _ = _pumped(12)
    crowd = crowd_model.ledger.liquid[crowd_acct]
    assert crowd > alone
    crowd_model.ledger.check(crowd_model.epoch)


def test_split_segments_is_exact_and_pro_rata():
    pay, left = split_segments(np.array([10, 7, 5]), np.array([0, 0, 0, 1, 1]),
                               np.array([1.0, 1.0, 1.0, 3.0, 1.0]))
    assert pay.tolist() == [4, 3, 3, 6, 1]  # largest weight takes what floors leave
    assert left.tolist() == [0, 0, 5]  # segment 2 has nobody


def test_pools_are_opt_in_and_checked():
    assert NetworkParams().dtao.pools is False
    with pytest.raises(ValueError, match="dtao.price must list one value or one per subnet"):
        NetworkParams(subnets=(SubnetParams(),) * 3,
                      dtao=DtaoParams(pools=True, price=(0.1, 0.2)))


def test_every_strategy_with_entry_exit_and_imitation_keeps_the_pools_exact():
    from strategies.base import build, run
    from test_population import EVERY_STRATEGY

    from agents.population import Entry, EntryOption, Exit, Imitation

    m = build(EVERY_STRATEGY, seed=9, n_uids=64, query_rounds=4, network={
        "dtao": DtaoParams(pools=True, price=(1.5,), pool_tao=(50_000.0,),
                           subnet_last_lock_age_blocks=28_800),  # registrations allowed
        "economy": EconomyParams(initial_issuance_tao=11_180_000.0)})
    m.dynamics += [
        Entry(m, [EntryOption("honest_miner"), EntryOption("lazy_miner")], rate=0.5),
        Exit(patience=5), Imitation(every=10, beta=0.002, exclude=("stake_attacker",))]
    run(m, 40)  # every step checks TAO and alpha to the unit
    ledger = m.ledger
    tao, supply, alpha, issued = identities(ledger)
    assert tao == supply
    np.testing.assert_array_equal(alpha, issued)
    attacker = next(a for a in range(ledger.n) if m.agent_of[a] is not None
                    and m.agent_of[a].name == "stake_attacker")
    assert m.columns.get("StakeAttacker.capital_tao", attacker) > 0  # it entered
    # the founder registered at epoch 30, dissolving one of the two subnets (everyone on
    # it left, the attacker's alpha paid out as TAO if it was there) and owns the new one
    assert m.coinbase.last_lock_block > 0
    founded = [a for a in m.agents if a.name == "owner_burner" and a.uid == 0]
    assert founded and m.subnets[founded[0].netuid].owner_acct == founded[0].acct


def test_pools_need_the_dtao_era():
    with pytest.raises(ValueError, match="dtao.pools needs era 'dtao'"):
        NetworkParams(era="dec2023", dtao=DtaoParams(pools=True))


def test_a_file_with_pools_takes_todays_rules_and_a_given_value_wins():
    from experiments.sections import scenario

    params = scenario({
        "era": "dtao", "dtao": {"pools": True, "tao_weight": 0.3},
        "subnets": [{"n_uids": 64, "yuma": {"max_validators": 16}}, {"commit_reveal": False,
                                                                      "reveal_period": 0}],
    }).to_world()
    assert params.dtao.pools and params.dtao.tao_weight == 0.3
    assert params.economy.fixed_emission_per_block is None  # the halving schedule
    assert params.economy.initial_issuance_tao == 11_180_000.0  # 0.5 TAO per block
    assert all(s.yuma.version == "yuma3" for s in params.subnets)
    assert params.subnets[0].commit_reveal and not params.subnets[1].commit_reveal
    assert params.subnets[1].registration.min_burn_tao == 0.0005
    assert params.subnets[1].registration.burn_rule == "price"  # 1.26x, 360-block half-life
    without = scenario({"era": "dtao"}).to_world()
    assert without == NetworkParams()  # without pools a file keeps the world it had


def test_pools_are_measured_per_subnet_and_per_agent():
    model = network(10, root_stake=1_000.0)
    for _ in range(2):
        model.step()
    ledger = model.ledger
    df = model.datacollector.get_model_vars_dataframe()
    last = df.iloc[-1]
    for j, pool in enumerate(ledger.pools):
        assert last[f"dtao_price:{j}"] == pool.price
        assert last[f"dtao_tao_reserve:{j}"] == pool.tao_rao / RAO
    assert sum(last[f"dtao_share:{j}"] for j in range(3)) == pytest.approx(1.0)
    assert last["dtao_root_stake_tao"] == pytest.approx(6_000.0, rel=0.01)
    rec = model.agent_records()
    assert {"alpha", "value_tao", "value_sell_tao", "value_usd"} <= set(rec.columns)
    held = rec[rec["alpha"] > 0]
    assert (held["value_sell_tao"] < held["value_tao"]).all()  # fee and slippage
    assert "dtao_price:0" not in measure_keys_without_pools()


def measure_keys_without_pools() -> list[str]:
    from world import measure

    plain = Network(NetworkParams(subnets=(SubnetParams(n_uids=16,
                                                        yuma=YumaParams(max_validators=8)),)),
                    [Cohort(get("honest_validator"), 1, 0)], rng=1)
    return list(measure.reporters(plain))


def test_the_dtao_baseline_file_runs_with_pools():
    from pathlib import Path

    from experiments.plan import load_plan
    from experiments.schema import Experiment
    from experiments.wiring import build_model

    plan = load_plan(Path(__file__).resolve().parents[1] / "experiments/configs/dtao_baseline.yaml")
    task = plan.task(next(iter(plan.runs([0]))))
    model = build_model(Experiment.model_validate(task["config"]), int(task["seed"]))
    assert model.params.dtao.pools and len(model.ledger.pools) == 32
    assert model.params.subnets[0].yuma.version == "yuma3"
    model.step()
    model.step()  # each step checks TAO and every subnet's alpha to the unit
    assert model.metrics["dtao_root_stake_tao"] >= 2_000_000.0
    assert sum(model.metrics[f"dtao_share:{j}"] for j in range(32)) == pytest.approx(1.0)


def test_the_whole_network_file_is_generated_and_runs():
    """experiments/configs/dtao_network.yaml (128 subnets x 256 UIDs) is what
    experiments/generate.py writes, and its network steps with every pool exact."""
    from pathlib import Path

    from experiments.generate import dtao_network_yaml
    from experiments.plan import load_plan
    from experiments.schema import Experiment
    from experiments.wiring import build_model

    path = Path(__file__).resolve().parents[1] / "experiments/configs/dtao_network.yaml"
    assert path.read_text(encoding="utf-8") == dtao_network_yaml(), (
        "regenerate: python -m experiments.generate > experiments/configs/dtao_network.yaml")
    plan = load_plan(path)
    task = plan.task(next(iter(plan.runs([0]))))
    model = build_model(Experiment.model_validate(task["config"]), int(task["seed"]))
    assert len(model.ledger.pools) == 128 and len(model.subnets) == 128
    assert {a.name for a in model.agents} >= {"momentum_staker", "pump_and_dump",
                                              "yield_chaser", "root_staker", "owner_burner",
                                              "owner_buyback", "subnet_founder"}
    burners = [s for s in model.subnets if s.owner_uid >= 0
               and model.agent_of[s.owner_acct].name == "owner_burner"]
    assert len(burners) == 16
    model.step()  # checks TAO and every subnet's alpha to the unit
    assert sum(model.metrics[f"dtao_share:{j}"] for j in range(128)) == pytest.approx(1.0)


def test_the_neuron_burn_price_rises_per_registration_and_halves_each_half_life():
    from world.params import RegistrationParams

    reg = RegistrationParams(burn_rule="price", initial_burn_tao=1.0)
    sub = SubnetParams(n_uids=16, yuma=YumaParams(max_validators=8), registration=reg)
    model = Network(NetworkParams(subnets=(sub,)),
                    [Cohort(get("honest_validator"), 2, 0), Cohort(get("honest_miner"), 4, 0)],
                    rng=11)
    s = model.subnets[0]
    assert s.burn_rao == RAO
    for _ in range(2):
        miner = get("honest_miner")(model)
        model.ledger.transfer(model.market, miner.acct, 10 * RAO)
        assert model.register(miner, 0) >= 0
    assert s.burn_rao == int(int(1.26 * RAO) * 1.26)  # 1.26x each, floored
    paid = s.burn_rao
    model.step()  # one tempo of 360 blocks = one half-life: the burn halves
    assert s.burn_rao == pytest.approx(paid / 2, rel=1e-6)
    assert s.burn_rao <= paid // 2


def test_income_valued_at_a_runaway_price_stays_a_number():
    """A pool pushed to an absurd price (a thin pool bought out) values the alpha an
    epoch pays at more RAO than an int64 holds: the books keep it as a (meaningless but
    finite) number, not an invalid cast, and the ledger stays exact."""
    m = network(k=2, price=(1e12, 0.3), pool_tao=(20_000.0, 10_000.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for _ in range(3):
            m.step()
    income = m.columns.get("income_tao", np.arange(m.ledger.n), 0.0)
    assert np.isfinite(income).all() and income.min() >= 0
    assert income.max() > 2.0**63 / 1e9  # past what int64 RAO holds


class _Forget:
    """A cold start after every epoch: everything kept for speed dropped."""

    def after_epoch(self, model: Network) -> None:
        model.forget()


def test_caches_never_change_a_result_with_pools():
    """With pools, entry, exit and a subnet dissolved, a network that drops everything it
    keeps for speed after each epoch (``Network.forget``: stacks, layouts, memberships,
    grading runs, quality ranks, cabal checks) gives the same tables as one that keeps it."""
    from strategies.base import build, run
    from test_population import EVERY_STRATEGY

    from agents.population import Entry, EntryOption, Exit

    tables = []
    for cold in (False, True):
        m = build(EVERY_STRATEGY, seed=9, n_uids=64, query_rounds=4, network={
            "dtao": DtaoParams(pools=True, price=(1.5,), pool_tao=(50_000.0,),
                               subnet_last_lock_age_blocks=28_800),
            "economy": EconomyParams(initial_issuance_tao=11_180_000.0)})
        m.dynamics += [Entry(m, [EntryOption("honest_miner")], rate=0.5), Exit(patience=5)]
        if cold:
            m.dynamics.append(_Forget())
        run(m, 36)
        assert m.coinbase.last_lock_block > 0  # a subnet was registered, one dissolved
        tables.append((m.datacollector.get_model_vars_dataframe(), m.agent_records()))
    for a, b in zip(*tables, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def _reaches(start: object, target: object) -> bool:
    """Whether ``target`` is reachable from ``start`` through object references, closures
    and bound methods included (modules, classes and functions' globals left out)."""
    import gc
    import types

    seen, todo = {id(start)}, [start]
    while todo:
        obj = todo.pop()
        if obj is target:
            return True
        if isinstance(obj, types.FunctionType):
            nxt = [c.cell_contents for c in obj.__closure__ or ()] + list(obj.__defaults__ or ())
        elif isinstance(obj, (types.ModuleType, type)):
            continue
        else:
            nxt = gc.get_referents(obj)
        for x in nxt:
            if id(x) not in seen:
                seen.add(id(x))
                todo.append(x)
    return False


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copy_of_a_running_network_with_pools_runs_on_as_the_original(how):
    """A dtao network forked mid-run (``copy.deepcopy``, or pickled and read back, as a
    saved run is), before a founder registers a subnet, gives the original's tables and
    pools (``Network.__deepcopy__``, ``__setstate__``), and nothing in it reaches the
    original."""
    import copy
    import pickle

    founder = Cohort(get("subnet_founder"), 1, None,
                     {"endowment_tao": 5_000.0, "entry_epoch": 3, "owner": 0})
    m = network(3, root_stake=2_000.0, extra=(founder,), subnet_last_lock_age_blocks=28_800)
    for _ in range(2):
        m.step()
    fork = copy.deepcopy(m) if how == "deepcopy" else pickle.loads(pickle.dumps(m))
    assert not _reaches(fork, m)
    table = m.acct_netuid.copy()
    for _ in range(8):
        m.step()
        fork.step()
    assert not np.array_equal(table, m.acct_netuid[: len(table)])  # a subnet changed hands
    pd.testing.assert_frame_equal(m.datacollector.get_model_vars_dataframe(),
                                  fork.datacollector.get_model_vars_dataframe(), check_exact=True)
    pd.testing.assert_frame_equal(m.agent_records(), fork.agent_records(), check_exact=True)
    assert [p.tao_rao for p in m.ledger.pools] == [p.tao_rao for p in fork.ledger.pools]
