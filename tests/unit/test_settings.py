"""One `Settings` for every way of configuring a fake; unknown names fail in one place."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockspike import CassetteOptions, MockSpike, RecordMode, ReplayTiming, Settings


def test_unknown_option_names_the_nearest_one() -> None:
    with pytest.raises(TypeError, match=r"unknown option 'strikt'; did you mean 'strict'\?"):
        MockSpike(strikt=True)


def test_unknown_option_with_nothing_near_lists_the_options() -> None:
    with pytest.raises(TypeError, match="unknown option 'zzz'; options are profile, strict"):
        Settings.build(zzz=1)


def test_cassette_options_without_a_cassette_are_an_error() -> None:
    with pytest.raises(TypeError, match="record_mode given without a cassette"):
        MockSpike(record_mode="once")


def test_flat_options_build_the_cassette_settings(tmp_path: Path) -> None:
    settings = Settings.build(
        cassette=tmp_path / "c.json", record_mode="new_episodes", redact_paths="metadata.user_id"
    )
    assert settings.cassette == CassetteOptions(
        tmp_path / "c.json",
        record_mode=RecordMode.NEW_EPISODES,
        redact_paths=("metadata.user_id",),
    )
    assert settings.cassette.replay_timing is ReplayTiming.INSTANT


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"record_mode": "sometimes"}, "record mode is one of none, once, new_episodes, rewrite"),
        ({"replay_timing": "slow"}, "replay timing is one of instant, recorded"),
    ],
)
def test_enum_values_are_checked(options: dict[str, str], message: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.build(cassette=tmp_path / "c.json", **options)


def test_profile_and_time_scale_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown profile 'nope'"):
        Settings.build(profile="nope")
    with pytest.raises(ValueError, match="time_scale must not be negative"):
        Settings.build(time_scale=-1)


def test_config_may_be_a_dict() -> None:
    settings = Settings.build(config={"keys": {"sk-a": {"wallet": 3}}})
    assert settings.config is not None and settings.config.keys["sk-a"].wallet == 3.0


def test_the_fake_is_built_from_its_settings() -> None:
    fake = MockSpike.from_settings(Settings.build(profile="anthropic", strict=True))
    assert fake.profile == "anthropic" and fake.engine.strict is True


def test_use_cassette_swaps_and_ejects(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"version": 1, "interactions": []}')
    with MockSpike() as fake:
        with fake.use_cassette(tmp_path / "a.json") as cassette:
            assert fake.cassette is cassette and cassette.path == tmp_path / "a.json"
        assert fake.cassette is None and fake.engine.front is None


def test_set_balance_is_a_python_control_too() -> None:
    fake = MockSpike()
    assert fake.set_balance("sk-a", 2.5) == 2.5
    assert fake.wallet("sk-a") == 2.5 and fake.wallets == {"sk-a": 2.5}
