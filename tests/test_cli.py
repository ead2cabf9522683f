"""layer.cli: every command answers --help, and a usage error is one line with the next step."""

import pytest

from layer.cli import COMMANDS
from layer.cli import main as cli


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        cli([command, "--help"])

    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: build_layer.sh {command} [-h]")


def test_build_help_names_lambdas_limits(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        cli(["build", "--help"])

    # https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
    help_text = " ".join(capsys.readouterr().out.split())
    assert "(default: Lambda's limit, 262144000)" in help_text
    assert "must go through S3 (default: 52428800)" in help_text


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["build", "--nope"], "unrecognized arguments: --nope"),
        (
            ["build", "--today", "someday"],
            "argument --today: invalid fromisoformat value: 'someday'",
        ),
        (
            ["build", "--max-unzipped-bytes", "-5"],
            "argument --max-unzipped-bytes: '-5' is not a whole number of bytes above 0",
        ),
        (
            ["build", "--requirements", "no-such-file.txt"],
            "argument --requirements: no-such-file.txt is not a file",
        ),
        (["verify", "one.zip", "two.zip"], "unrecognized arguments: two.zip"),
        (["publish", "--dry-run=yes"], "argument --dry-run: ignored explicit argument 'yes'"),
        (["attach"], "the following arguments are required: --layer-arn"),
    ],
)
def test_a_usage_error_is_one_line(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli(arguments)

    command = arguments[0]
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"build_layer.sh {command}: error: {message}; run ./build_layer.sh {command} --help"
    ]
