"""The one diagnosis, on the patterns a senior operator reads past: the jobmanrc banner, cleanup after
the real error, an error a retry recovered, a configuration echo, pt_BR messages, return codes read
per program family, a launch failure against a program failure, vendor codes read for what they mean."""

from __future__ import annotations

import pytest

from tools.diagnosis import diagnose

pytestmark = pytest.mark.fast

HEADER = """===============================================================
= JOB       : AGT1#FIN_DAILY[(0200 12/05/26),(0AAAAAAAAAABC1)].GL_POST
= USER      : batchusr
= JCLFILE   : /opt/batch/fin/gl_post.sh
= TWSRCMAP  :
= AGENT     : AGT1
= Job Number: 512334
= Sat Dec 05 02:00:03 UTC 2026
===============================================================
Tivoli Workload Scheduler (UNIX)/JOBMANRC 10.1
Installed for user "batchusr".
Locale LANG set to the following: "en_US.UTF-8"
Now we are running the script /opt/batch/fin/gl_post.sh
"""


def log(*body: str, rc: str = "8") -> str:
    trailer = f"===============================================================\n= Exit Status : {rc}\n"
    return HEADER + "\n".join(body) + "\n" + trailer


def test_the_jobmanrc_banner_is_not_a_launch_failure() -> None:
    found = diagnose(
        log("INSERT INTO GL.LEDGER ...", "ORA-01653: unable to extend table GL.LEDGER by 8192"), "ABEND", 8
    )
    assert found.category == "resource" and found.rerun_helps == "no" and "ORA-01653" in (found.line or "")
    assert found.line_number == 15 and found.confidence >= 0.9  # numbered as in the whole log


def test_cleanup_after_the_real_error_does_not_decide() -> None:
    text = log(
        "Connecting to ledger",
        "ORA-12154: TNS:could not resolve the connect identifier specified",
        "rm: cannot remove '/tmp/gl_post.lck': No such file or directory",
    )
    found = diagnose(text, "ABEND", 8)
    assert found.category == "database" and "ORA-12154" in (found.line or "")


def test_an_error_a_retry_recovered_is_not_the_cause() -> None:
    text = log(
        "ERROR ORA-00060: deadlock detected (attempt 1/3), retrying in 5s",
        "INFO attempt 2/3 succeeded",
        "cp: error writing '/data/out/gl.dat': No space left on device",
        rc="1",
    )
    found = diagnose(text, "ABEND", 1)
    assert found.category == "resource" and "No space left" in (found.line or "")


def test_a_configuration_echo_is_not_a_timeout() -> None:
    text = log("INFO config: retries=3 timeout=30s dir=/data/in", "ERROR: file not found: /data/in/gl.csv")
    assert diagnose(text, "ABEND", 12).category == "missing_input"


def test_portuguese_system_messages() -> None:
    assert (
        diagnose(log("cat: /data/in/x.txt: Arquivo ou diretório inexistente"), "ABEND", 1).category == "missing_input"
    )
    assert diagnose(log("/bin/sh: /opt/x.sh: Permissão negada", rc="126"), "ABEND", 126).category == "permission"
    found = diagnose(log("cp: erro escrevendo 'x': Não há espaço disponível no dispositivo"), "ABEND", 1)
    assert found.category == "resource" and found.next_step("pt") != found.next_step("en")


def test_return_codes_are_read_per_program_family() -> None:
    robocopy = "-" * 79 + "\n   ROBOCOPY     ::     Robust File Copy for Windows"
    assert diagnose(robocopy, "ABEND", 8).category != "database"  # robocopy's 8 is not a database error
    assert diagnose("+ curl -sS https://x/y", "ABEND", 28).category == "timeout"  # curl's 28 is a timeout
    assert diagnose("processing", "ABEND", 28).category == "unknown"  # a shell's 28 alone means nothing
    assert diagnose("processing", "ABEND", 127).category == "agent"
    assert diagnose("processing", "ABEND", 137).category == "resource"


def test_a_launch_failure_against_a_program_failure() -> None:
    never = diagnose("AWSSIM0120E The job could not be launched on AGT2: the user x is not valid on the agent.", "FAIL")
    assert never.category == "agent" and never.confidence >= 0.75
    assert diagnose("", "FAIL").category == "agent"
    ran = diagnose(log("Step 1/3: processed 100 records", "Segmentation fault (core dumped)", rc="139"), "ABEND", 139)
    assert ran.category == "unknown" and ran.line and "Segmentation" in ran.line


@pytest.mark.parametrize(
    ("line", "category", "rerun"),
    [
        ("ORA-01017: invalid username/password; logon denied", "permission", "no"),  # not a lock problem
        ("ORA-00942: table or view does not exist", "database", "no"),  # a rerun fails again
        ("ORA-00060: deadlock detected while waiting for resource", "database", "yes"),
        (
            "SQL0911N  The current transaction has been rolled back because of a deadlock.  SQLSTATE=40001",
            "database",
            "yes",
        ),
        ("Msg 1205, Level 13, State 51, Line 14", "database", "yes"),
        ("java.lang.OutOfMemoryError: Java heap space", "resource", "no"),
        ("IEF450I PAYR01 STEP010 - ABEND=S0C7 U0000 REASON=00000000", "unknown", "no"),
        ("IEF450I PAYR01 STEP010 - ABEND=S913 U0000 REASON=00000038", "permission", "no"),
        ("Access is denied.", "permission", "no"),
        ("ssh: connect to host sftp.corp port 22: Connection timed out", "timeout", "yes"),
    ],
)
def test_vendor_messages_mean_what_their_documentation_says(line: str, category: str, rerun: str) -> None:
    found = diagnose(log(line), "ABEND", 8)
    assert (found.category, found.rerun_helps) == (category, rerun)
    assert found.as_json("pt")["meaning"] and set(found.as_json()) == {
        "category",
        "line",
        "line_number",
        "meaning",
        "rerun_helps",
        "next_step",
        "confidence",
    }


def test_with_no_known_message_the_error_lines_words_decide_and_say_so() -> None:
    """The last resort before unknown: a clear majority of the error lines' words, low confidence."""
    text = log(
        "loading ledger extract",
        "ERROR: cannot continue, the quota for the staging disk is exhausted (space left 0)",
        "job failed",
    )
    found = diagnose(text, "ABEND", 8)
    assert found.category == "resource" and found.message_id == "words" and found.confidence < 0.5
    assert found.line is not None and "quota" in found.line
    assert "no known message" in found.meaning_en and found.rerun_helps == "unknown"


def test_words_split_between_causes_are_not_a_cause() -> None:
    text = log("ERROR: transaction failed on the agent", "FATAL: giving up")
    assert diagnose(text, "ABEND", 3).category == "unknown"  # "transaction" and "agent" tie: no lead
    assert diagnose(log("processing done, exit 3"), "ABEND", 3).category == "unknown"  # no error line
