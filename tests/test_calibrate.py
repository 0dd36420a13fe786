"""`demandsim calibrate`: recovering known parameters from synthetic data, resuming,
estimating the data's own noise, intervals that do not collapse on a noisy series, a
warning when they rest on too few good fits, and refusing bad observed files and
specs with one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from analysis.fit.calibration_spec import model_columns, parse_calibration_spec, read_observed
from analysis.sweeps.spec import read_spec_toml
from demandsim.main import cli
from sim import DemandModel, load_scenario
from tests.helpers import bash, killed_at
from tests.test_batch_solo import hashes

ROOT = Path(__file__).resolve().parent.parent
TRUTH = {"focal.platform.density": 0.02, "wom.q": 0.3}
SPEC = """
replications = 3
seed = 1
trials = {trials}
refine = 15
[set]
"run.customers" = 1000
[parameters]
"focal.platform.density" = {{ range = [0.002, 0.1] }}
"wom.q" = {{ range = [0.02, 0.8] }}
"""


def observed_file(path: Path, customers: int = 1000) -> Path:
    sc = load_scenario("bass-check", overrides={"run.customers": customers, **TRUTH})
    ts = DemandModel(sc, rng=424242).run(40).datacollector.get_model_vars_dataframe()
    ts[["step", "adopters"]].to_csv(path, index=False)
    return path


def calibrate(root: Path, trials: int, out: Path) -> object:
    (root / "spec.toml").write_text(SPEC.format(trials=trials))
    args = ["calibrate", "bass-check", "--observed", str(root / "obs.csv")]
    args += ["--spec", str(root / "spec.toml"), "--out", str(out)]
    return CliRunner().invoke(cli, args)


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cal")
    observed_file(root / "obs.csv")
    result = calibrate(root, 30, root / "out")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    return root


def test_calibration_recovers_the_parameters_that_made_the_data(calibrated: Path) -> None:
    iv = pd.read_csv(calibrated / "out" / "intervals.csv").set_index("field")
    for field, truth in TRUTH.items():
        lo, hi = iv.loc[field, "lo"], iv.loc[field, "hi"]
        assert lo <= truth <= hi, (field, lo, hi)
        # and the interval says something: narrower than half the searched range
        assert hi - lo < 0.5 * {"focal.platform.density": 0.098, "wom.q": 0.78}[field]


def test_calibrated_scenario_runs_and_holds_the_best_fit(calibrated: Path) -> None:
    out = calibrated / "out"
    sc = load_scenario(out / "calibrated.toml")
    iv = pd.read_csv(out / "intervals.csv").set_index("field")
    assert sc.focal.platform.density == pytest.approx(iv.loc["focal.platform.density", "best"])
    assert sc.wom.q == pytest.approx(iv.loc["wom.q", "best"])
    assert sc.run.steps == 40
    html = (out / "calibration.html").read_text()
    assert "data:image/png;base64," in html and "Stage 1" in html
    # the intervals say how many good fits they rest on, as the trials count them
    trials = pd.read_csv(out / "trials.csv")
    assert (iv["accepted"] == int(trials["good"].sum())).all()
    assert f"{iv['accepted'].iloc[0]} good fits" in html
    start = json.loads((out / "start.json").read_text())
    assert start["accepted"] == iv["accepted"].iloc[0] and start["noise"] >= 0
    assert {"study.db", "fit.png", "trials.csv", "demandsim.json", "start.json"} <= {
        p.name for p in out.iterdir()
    }


def test_a_rerun_continues_the_study(calibrated: Path) -> None:
    import shutil

    out = calibrated / "resume"
    shutil.copytree(calibrated / "out", out)
    before = pd.read_csv(out / "trials.csv")
    result = calibrate(calibrated, 32, out)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    after = pd.read_csv(out / "trials.csv")
    assert len(after) == len(before) + 2
    # the trials already done were kept, not run again
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("calibrate: trial")]  # type: ignore[attr-defined]
    assert len(lines) == 2
    kept = after[after["trial"].isin(before["trial"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept[["trial", "distance"]], before[["trial", "distance"]])
    # and the new candidates are new, not the ones the first run began with again
    fields = list(TRUTH)
    new = after[~after["trial"].isin(before["trial"])]
    old = {tuple(r) for r in before[fields].itertuples(index=False)}
    assert not any(tuple(r) in old for r in new[fields].itertuples(index=False))


def test_a_killed_calibration_continues_to_what_one_never_stopped_finds(
    calibrated: Path, tmp_path: Path
) -> None:
    # killed twice, in the search and among the refining candidates; each time the
    # same command on the same folder goes on, and at the end the folder holds what
    # the calibration that was never stopped (the fixture) wrote
    (tmp_path / "spec.toml").write_text(SPEC.format(trials=30))
    out = tmp_path / "out"
    args = ["calibrate", "bass-check", "--observed", str(calibrated / "obs.csv")]
    args += ["--spec", str(tmp_path / "spec.toml"), "--out", str(out)]
    killed_at(args, "calibrate: trial 12/45")
    killed_at(args, "calibrate: trial 38/45")
    assert (out / "study.db").is_file() and not (out / "trials.csv").exists()
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("calibrate: trial")]  # type: ignore[attr-defined]
    assert lines[-1].split()[2] == "45/45" and 7 <= len(lines) <= 9, lines
    for name in ("trials.csv", "intervals.csv", "calibrated.toml"):
        assert (out / name).read_bytes() == (calibrated / "out" / name).read_bytes(), name


@pytest.mark.parametrize(
    ("name", "scenario", "columns"),
    [
        ("bass", "bass-check", ["step", "adopters", "sales"]),
        ("baseline", "baseline", ["step", "revenue", "market_share"]),  # the README's guide
    ],
)
def test_bundled_calibration_example_is_valid(name: str, scenario: str, columns: list[str]) -> None:
    path = ROOT / "analysis" / "specs" / f"{name}.calibration.toml"
    spec = parse_calibration_spec(read_spec_toml(path, "spec"), path.parent, scenario)
    observed = ROOT / "analysis" / "specs" / f"{name}.observed.csv"
    obs = read_observed(observed, model_columns(spec.base))
    assert list(obs.columns) == columns
    assert "SYNTHETIC" in observed.read_text().splitlines()[0]


GOOD = "step,adopters\n0,0\n1,5\n2,12\n3,20\n"
BAD_OBSERVED = {
    "gap": ("step,adopters\n0,0\n1,5\n3,12\n4,20\n", ["step", "jumps", "1", "3"]),
    "negative": ("step,sales\n0,0\n1,5\n2,-3\n3,2\n", ["sales", "step 2", "-3", "non-negative"]),
    "no step": ("week,adopters\n0,0\n1,5\n2,6\n", ["step"]),
    "unknown column": ("step,adoptors\n0,0\n1,5\n2,6\n", ["adoptors", "adopters"]),
    "text": ("step,adopters\n0,a\n1,b\n2,c\n", ["adopters", "numeric"]),
}


@pytest.mark.parametrize("key", sorted(BAD_OBSERVED))
def test_bad_observed_file_is_one_line_exit_2_nothing_written(tmp_path: Path, key: str) -> None:
    text, words = BAD_OBSERVED[key]
    (tmp_path / "obs.csv").write_text(text)
    (tmp_path / "spec.toml").write_text(SPEC.format(trials=5))
    _refused(tmp_path, words)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ('[parameters]\n"wom.qq" = { range = [0.1, 0.2] }\n', ["wom.qq", "unknown"]),
        ('[parameters]\n"wom.q" = { range = [0.1, 7.0] }\n', ["wom.q", "7.0"]),
        ('sampler = "abc"\n[parameters]\n"wom.q" = { range = [0.1, 0.2] }\n', ["sampler"]),
        ('replications = 1\n[parameters]\n"wom.q" = { range = [0.1, 0.2] }\n', ["replications"]),
    ],
)
def test_bad_calibration_spec_is_one_line(tmp_path: Path, spec: str, words: list[str]) -> None:
    (tmp_path / "obs.csv").write_text(GOOD)
    (tmp_path / "spec.toml").write_text(spec)
    _refused(tmp_path, words)


def _refused(tmp_path: Path, words: list[str]) -> None:
    before = set(tmp_path.iterdir())
    args = ["calibrate", "bass-check", "--observed", str(tmp_path / "obs.csv")]
    args += ["--spec", str(tmp_path / "spec.toml"), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 200, lines
    for w in words:
        assert w in lines[0], lines[0]
    assert set(tmp_path.iterdir()) == before


def test_workers_give_the_same_calibration(tmp_path: Path) -> None:
    # the candidates' replications run through the ensemble runner on worker processes:
    # every number written is the same for one process and for two
    observed_file(tmp_path / "obs.csv", customers=200)  # a market the size the spec sets
    spec = SPEC.format(trials=3).replace("refine = 15", "refine = 1")
    spec = spec.replace("replications = 3", "replications = 2").replace("= 1000", "= 200")
    (tmp_path / "spec.toml").write_text(spec)
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        args = ["calibrate", "bass-check", "--observed", str(tmp_path / "obs.csv")]
        args += ["--spec", str(tmp_path / "spec.toml"), "--out", str(out)]
        result = CliRunner().invoke(cli, [*args, "--workers", str(workers), "-q"])
        assert result.exit_code == 0, result.output
        # 4 candidates cannot give 10 good fits: one warning line says so
        warned = [ln for ln in result.stderr.splitlines() if ln.startswith("warning:")]
        assert len(warned) == 1 and "fewer than 10" in warned[0], result.stderr
        outs.append(out)
    # every file but the provenance record and the search's clock (tests.test_batch_solo)
    files = [hashes(out) for out in outs]
    assert {"trials.csv", "intervals.csv", "start.json", "calibrated.toml"} <= files[0].keys()
    assert files[0] == files[1]
    assert len(pd.read_csv(outs[0] / "trials.csv")) == 4  # 3 searched + 1 refined


def _known_noise_estimates(sigma: float, seeds: int) -> np.ndarray:
    """The noise estimated on a smooth sales curve (no model noise: every fresh market
    is the mean) times multiplicative noise ``sigma``, for ``seeds`` data sets."""
    from analysis.fit.calibrate import distance
    from analysis.fit.diffusion import bass_discrete
    from analysis.fit.tolerance import estimate_noise, noise_draws

    mean = 1000 * np.diff(bass_discrete(0.01, 0.3, 100), prepend=0.0)[None, :]
    mean[0, 0] = np.nan  # as the model's sales at step 0
    fresh = np.repeat(mean[None], 12, axis=0)
    scale = np.array([np.nanmax(mean)])
    z = noise_draws(1, 12, mean.shape)

    def gap(a: np.ndarray, b: np.ndarray) -> float:
        return distance(a, b, scale)

    out = []
    for seed in range(seeds):
        e = np.random.default_rng(seed).standard_normal(mean.shape)
        obs = mean * np.exp(sigma * e - sigma**2 / 2)
        n = int(np.isfinite(obs).sum())
        out.append(estimate_noise(fresh, mean, ["sales"], gap(obs, mean), 0, n, z, gap))
    return np.array(out)


def test_noise_estimate_recovers_a_known_noise() -> None:
    est = _known_noise_estimates(0.1, 40)
    se = est.std(ddof=1) / np.sqrt(len(est))
    assert abs(est.mean() - 0.1) < 4 * se, (est.mean(), se)
    assert 0 < se < 0.01  # the estimate is informative: each one within ~0.02
    # data no noisier than the model: no observation noise at all
    assert np.all(_known_noise_estimates(0.0, 5) == 0.0)


def test_intervals_do_not_collapse_on_a_noisy_series(tmp_path: Path) -> None:
    # one small market's sales with 15% multiplicative noise: the noise is estimated,
    # the acceptance distance includes it, and the intervals rest on several good fits
    # and cover the truth; the model's noise alone would accept fewer
    from analysis.fit.calibrate import calibrate as run_calibration
    from analysis.fit.calibrate import distance

    truth = {"focal.platform.density": 0.03, "wom.q": 0.3}
    sc = load_scenario("bass-check", overrides={"run.customers": 400, **truth})
    ts = DemandModel(sc, rng=77).run(20).datacollector.get_model_vars_dataframe()
    sales = np.diff(ts["adopters"].to_numpy(dtype=float), prepend=0.0)
    z = np.random.default_rng(78).standard_normal(len(sales))
    obs = pd.DataFrame({"step": ts["step"].to_numpy(), "sales": sales * np.exp(0.15 * z)})
    data = {
        "replications": 2,
        "seed": 3,
        "trials": 20,
        "refine": 20,
        "set": {"run.customers": 400},
        "parameters": {
            "focal.platform.density": {"range": [0.002, 0.1]},
            "wom.q": {"range": [0.02, 0.8]},
        },
    }
    spec = parse_calibration_spec(data, ROOT, "bass-check")
    cal = run_calibration(spec, obs, tmp_path / "study.db")
    assert 0.05 < cal.noise < 0.4, cal.noise
    assert cal.accepted >= 5, cal.accepted
    assert (cal.warning is None) == (cal.accepted >= 10)
    iv = cal.intervals.set_index("field")
    for field, value in truth.items():
        assert iv.loc[field, "lo"] < value < iv.loc[field, "hi"], (field, iv.loc[field])
    y = obs[["sales"]].to_numpy(dtype=float).T
    mean_best = cal.band["sales"][0][None, :]
    scale = np.array([np.nanmax(y)])
    eps_model = np.quantile([distance(f, mean_best, scale) for f in cal.fresh], 0.9)
    assert eps_model < cal.eps
    assert int((cal.trials["distance"] <= eps_model).sum()) < cal.accepted


def test_too_few_good_fits_are_warned_in_one_line() -> None:
    from analysis.fit.tolerance import MIN_ACCEPTED, too_few_warning

    line = too_few_warning(1, 0.9)
    assert line is not None and "\n" not in line and "1 good fit " in line and "90%" in line
    assert too_few_warning(MIN_ACCEPTED - 1, 0.9) is not None
    assert too_few_warning(MIN_ACCEPTED, 0.9) is None


def test_observation_noise_is_on_sales_and_on_cumulative_columns_increments() -> None:
    from analysis.fit.tolerance import noise_draws, with_noise

    adopters = np.array([[[0.0, 10.0, 30.0, 60.0]]])  # one run, one column, 4 steps
    sales = np.array([[[np.nan, 10.0, 20.0, 30.0]]])
    z = noise_draws(5, 1, (1, 4))
    assert np.array_equal(with_noise(adopters, ["adopters"], 0.0, z)[0, 0], adopters[0])
    noisy = with_noise(adopters, ["adopters"], 0.2, z)[0]
    factor = np.exp(0.2 * z[0] - 0.02)
    # the increments carry the noise, and the adopters are their sum again
    assert np.allclose(np.diff(noisy[:, 0], axis=-1), np.diff(adopters[0, 0]) * factor[:, 0, 1:])
    noisy_sales = with_noise(sales, ["sales"], 0.2, z)[0]
    assert np.allclose(noisy_sales[:, 0, 1:], sales[0, 0, 1:] * factor[:, 0, 1:])
    assert np.isnan(noisy_sales[:, 0, 0]).all()
    # the same address gives the same draws (a resumed calibration draws them again)
    assert np.array_equal(z, noise_draws(5, 1, (1, 4)))
    assert not np.array_equal(z, noise_draws(6, 1, (1, 4)))


def test_published_series_least_squares_recovers_an_exact_bass_curve() -> None:
    from benchmarks.published_series import bass_sales, nls

    sales = bass_sales(np.arange(14, dtype=float), 0.01, 0.4, 10_000.0)
    fit = nls(sales)
    for name, truth in (("p", 0.01), ("q", 0.4), ("m", 10_000.0)):
        est, lo, hi = fit[name]
        assert est == pytest.approx(truth, rel=1e-4) and lo <= truth <= hi, (name, fit[name])


SERIES_FILE = """# source: an example in the bundled format (where every number comes from)
# published: p=0.01, q=0.4, m=10000
# form: discrete
step,sales
0,100
1,136
2,184
3,246
"""


@pytest.mark.parametrize(
    "path", sorted((ROOT / "analysis" / "specs").glob("*.published.csv")) + [None], ids=str
)
def test_published_series_files_name_their_source_and_parse(
    path: Path | None, tmp_path: Path
) -> None:
    # every bundled series (and a file in the bundled format) names its source and the
    # form of its published estimates, gives p, q, m and at least four years of sales
    from benchmarks.published_series import read_series

    if path is None:
        path = tmp_path / "example.published.csv"
        path.write_text(SERIES_FILE)
    data, published, source = read_series(path)
    assert list(data.columns) == ["step", "sales"] and len(data) >= 4
    assert (data["sales"] > 0).all() and list(data["step"]) == list(range(len(data)))
    assert set("pqm") <= set(published) and min(published[k] for k in "pqm") > 0
    assert source and ("discrete)" in source or "continuous)" in source)


@pytest.mark.parametrize(
    "drop, field",
    [
        ("# source:", "source"),
        ("# form:", "form"),
        ("# published:", "published"),
        ("3,246", "sales"),
    ],
)
def test_a_published_series_without_its_source_is_refused_in_one_line(
    drop: str, field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks.published_series import main

    path = tmp_path / "bad.published.csv"
    path.write_text("\n".join(x for x in SERIES_FILE.splitlines() if not x.startswith(drop)))
    assert main(["--observed", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and field in err and "expected" in err


# --------------------------------------------------------------------------- plain words


def test_the_verdict_says_how_well_the_fit_follows_and_what_the_data_pin_down() -> None:
    from types import SimpleNamespace

    from analysis.fit.calibration_page import calibration_verdict

    spec = parse_calibration_spec(
        {
            "trials": 5,
            "parameters": {
                "focal.platform.density": {"range": [0.0, 0.1]},
                "wom.q": {"range": [0.0, 0.8]},
                "focal.platform.strength": {"range": [0.5, 1.0]},
            },
        },
        ".",
        "bass-check",
    )
    adopters = np.array([0.0, 100.0, 200.0, 300.0, 400.0])
    mean = adopters * 1.1  # 10% above at every step
    band = {"adopters": np.array([mean, mean - 5, mean + 5])}  # holds the observed only at 0
    intervals = pd.DataFrame(
        [  # widths: 10%, 50% and 80% of the searched ranges
            {"field": "focal.platform.density", "best": 0.05, "lo": 0.045, "hi": 0.055},
            {"field": "wom.q", "best": 0.3, "lo": 0.1, "hi": 0.5},
            {"field": "focal.platform.strength", "best": 0.8, "lo": 0.55, "hi": 0.95},
        ]
    )
    cal = SimpleNamespace(
        spec=spec,
        observed=pd.DataFrame({"step": range(5), "adopters": adopters}),
        columns=["adopters"],
        band=band,
        intervals=intervals,
        warning="warning: the 90% intervals rest on 3 good fits (fewer than 10); ...",
    )
    plain = calibration_verdict(cal)  # type: ignore[arg-type]
    adopted, sales = plain["fit"]
    assert adopted["typical_relative_error"] == pytest.approx(0.1)
    assert adopted["inside_band"] == 0.0 and sales["column"] == "sales (from adopters)"
    assert sales["typical_relative_error"] == pytest.approx(0.1)
    assert [f["pinned"] for f in plain["fields"]] == ["pinned down", "loosely set", "left open"]
    assert "contacts per customer per week (focal.platform.density)" in plain["fields"][0]["text"]
    assert "share of reads that are right" in plain["fields"][2]["text"]
    verdict = plain["verdict"]
    assert verdict.startswith("Verdict: the best fit follows the data poorly (0% of the ")
    assert "adopters typically 10.0% off" in verdict
    assert "the data pin down contacts per customer per week" in verdict
    assert "leave share of reads that are right (focal.platform.strength) open" in verdict
    assert "Too few good fits" in verdict


def test_calibrate_terminal_page_and_json_speak_plain_words(calibrated: Path) -> None:
    import shutil
    import sys

    html = (calibrated / "out" / "calibration.html").read_text()
    assert "In plain words" in html and "Verdict: the best fit follows the data" in html
    assert "contacts per customer per week (focal.platform.density)" in html
    out = calibrated / "words"
    shutil.copytree(calibrated / "out", out)
    result = calibrate(calibrated, 30, out)  # finished: nothing left to search
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    lines = result.stdout.splitlines()  # type: ignore[attr-defined]
    assert lines[-1].startswith("Verdict: the best fit follows the data")
    assert "the data pin down" in lines[-1]
    assert any(ln.startswith("sales (from adopters): the best fit is typically") for ln in lines)
    assert any(ln.startswith("word of mouth: weekly chance of exposure") for ln in lines)
    argv = f"calibrate bass-check --observed {calibrated / 'obs.csv'} --spec "
    argv += f"{calibrated / 'spec.toml'} --out {out} -q --json"
    read = "import json,sys; d = json.load(sys.stdin); assert json.loads(json.dumps(d)) == d; "
    read += "print(d['summary']['verdict'])"
    proc = bash(
        f'{sys.executable} -m demandsim {argv} | {sys.executable} -c "{read}"; '
        f"echo ${{PIPESTATUS[0]}}; {sys.executable} -m demandsim {argv} | head -c 1 "
        ">/dev/null; echo ${PIPESTATUS[0]}"
    )
    verdict, piped, closed = proc.stdout.strip().splitlines()
    assert verdict == lines[-1] and piped == "0" and closed == "0", proc.stderr
    assert "Traceback" not in proc.stderr
