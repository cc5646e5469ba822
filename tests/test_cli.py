import subprocess
import sys

from vbt.cli import COMMANDS, available_commands, main


def test_help_lists_every_command(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for name in available_commands():
        assert name in out


def test_every_planned_command_is_installed():
    assert available_commands() == list(COMMANDS)


def test_python_dash_m_vbt_runs():
    proc = subprocess.run([sys.executable, "-m", "vbt", "--version"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    assert proc.stdout.startswith("vbt-monitor ")
