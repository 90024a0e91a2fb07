"""Issue 14, case 13: SIGTERM or Ctrl-C to `stance serve` stops MLflow's server and uvicorn
too; the port is free at once for the next start (it used to stay taken: address in use)."""

import signal
import socket

import pytest


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "in use"
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_stance_serve_frees_the_port(server, server_processes, signum):
    process, port = server
    assert server_processes(port) and not port_is_free(port)
    process.send_signal(signum)  # to `stance serve` alone, as `kill PID` or a supervisor sends it
    assert process.wait(timeout=60) == 0
    assert server_processes(port) == []
    assert port_is_free(port)
