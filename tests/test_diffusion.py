"""The closed-form start of calibration: Bass and Norton–Bass curves and their fits."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.fit.diffusion import (
    bass_cdf,
    bass_discrete,
    fit_bass,
    fit_norton_bass,
    norton_bass,
)


def test_bass_cdf_solves_the_bass_equation() -> None:
    # dF/dt = (p + q F)(1 - F): checked by a central difference
    p, q, h = 0.02, 0.35, 1e-5
    t = np.linspace(0.5, 40, 30)
    f = bass_cdf(t, p, q)
    dfdt = (bass_cdf(t + h, p, q) - bass_cdf(t - h, p, q)) / (2 * h)
    assert np.allclose(dfdt, (p + q * f) * (1 - f), rtol=1e-6, atol=1e-9)
    assert bass_cdf(0.0, p, q) == 0.0


@pytest.mark.parametrize("discrete", [True, False])
def test_fit_bass_recovers_p_q_m_from_noisy_adopters(discrete: bool) -> None:
    p, q, m, steps = 0.015, 0.3, 5000.0, 60
    t = np.arange(steps + 1)
    curve = m * (bass_discrete(p, q, steps) if discrete else bass_cdf(t, p, q))
    rng = np.random.default_rng(3)
    noisy = curve + rng.normal(0, 10, size=curve.shape)
    noisy[0] = curve[0]  # the start is observed: no one has adopted yet
    fit = fit_bass(noisy, discrete=discrete)
    assert fit.p == pytest.approx(p, rel=0.1)
    assert fit.q == pytest.approx(q, rel=0.1)
    assert fit.m == pytest.approx(m, rel=0.03)
    assert fit.rmse < 20
    over = fit.overrides()
    assert set(over) == {"focal.platform.density", "wom.q"}
    assert over["focal.platform.density"] == pytest.approx(fit.p)


def test_fit_bass_with_known_potential() -> None:
    p, q, steps = 0.04, 0.1, 40
    y = 2000 * bass_discrete(p, q, steps)
    fit = fit_bass(y, m=2000)
    assert fit.m == 2000
    assert fit.p == pytest.approx(p, rel=1e-3)
    assert fit.q == pytest.approx(q, rel=1e-3)


def test_norton_bass_first_generation_alone_is_bass_and_substitution_moves_adopters() -> None:
    t = np.arange(0, 80.0)
    p, q, m = 0.02, 0.4, (1000.0, 600.0)
    one = norton_bass(t, p, q, m[:1], [0.0])
    assert np.allclose(one[0], m[0] * bass_cdf(t, p, q))
    two = norton_bass(t, p, q, m, [0.0, 30.0])
    # before the second generation, the first is plain Bass; afterwards it loses adopters
    assert np.allclose(two[0][t < 30], one[0][t < 30])
    assert np.all(two[1][t < 30] == 0)
    assert two[0][-1] < 0.2 * one[0][-1]
    # in the end everyone of both potentials is on the latest generation
    assert two.sum(axis=0)[-1] == pytest.approx(sum(m), rel=1e-3)


def test_fit_norton_bass_recovers_its_parameters() -> None:
    t = np.arange(0, 100.0)
    p, q, m, tau = 0.01, 0.25, (3000.0, 2000.0), [0.0, 40.0]
    y = norton_bass(t, p, q, m, tau)
    y = y + np.random.default_rng(5).normal(0, 5, size=y.shape)
    fit = fit_norton_bass(t, y, tau)
    assert fit.p == pytest.approx(p, rel=0.1)
    assert fit.q == pytest.approx(q, rel=0.1)
    assert fit.m == pytest.approx(m, rel=0.05)


def test_coefficients_per_step_map_to_fields_per_week() -> None:
    """A monthly step's p and q are the weekly density times 52/12 and the chance of
    at least one weekly word of mouth in 52/12 weeks: mapped back, the weekly values."""
    from analysis.fit.diffusion import model_fields

    k = 52 / 12
    d, q = 0.02, 0.1
    fields = model_fields(d * k, 1 - (1 - q) ** k, steps_per_year=12)
    assert abs(fields["focal.platform.density"] - d) < 1e-12
    assert abs(fields["wom.q"] - q) < 1e-12
    assert model_fields(0.02, 0.1) == {"focal.platform.density": 0.02, "wom.q": 0.1}
