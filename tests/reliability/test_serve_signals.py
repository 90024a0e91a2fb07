"""Issue 14, case 13: SIGTERM or Ctrl-C to `stance serve` stops MLflow's server and uvicorn
too; the port is free at once for the next start (it used to stay taken: address in use)."""

import signal

import pytest


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_stance_serve_frees_the_port(server, server_processes, port_is_free, signum):
    process, port = server
    assert server_processes(port) and not port_is_free(port)
    process.send_signal(signum)  # to `stance serve` alone, as `kill PID` or a supervisor sends it
    assert process.wait(timeout=60) == 0
    assert server_processes(port) == []
    assert port_is_free(port)
