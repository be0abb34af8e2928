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
    # the database's own storage: the DBA's to extend, not the agent's disks to clean
    assert found.category == "database" and found.rerun_helps == "no" and "ORA-01653" in (found.line or "")
    assert "DBA" in found.next_en
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


def test_fail_means_it_never_started_whatever_the_message_says() -> None:
    # a file not found at launch is the job's script, not a missing input
    text = log(
        "/opt/IBM/TWA/TWS/jobmanrc[231]: /apps/fin/bin/gl_close.sh:  not found.",
        'AWSBHT001E The job "FIN#EOD.GL_CLOSE" in file "/apps/fin/bin/gl_close.sh" has failed with the error: '
        '"No such file or directory"',
    )
    found = diagnose(text, "FAIL", None)
    assert found.category == "agent" and "gl_close.sh:  not found" in (found.line or "")
    # a denied switch to the job's user at launch: the user is what to fix
    refused = diagnose(log("taskLauncher: setuid(etl_loads) failed: Permission denied"), "FAIL", None)
    assert refused.category == "agent" and "user" in refused.next_en
    assert refused.meaning_en.startswith("the job never started (FAIL)")
    # the same message when the job ran is the program's own problem
    assert diagnose(log("cat: /data/in/feed.csv: No such file or directory"), "ABEND", 1).category == "missing_input"


def test_key_value_pairs_inside_a_real_error_are_not_a_configuration_echo() -> None:
    hadoop = (
        "org.apache.hadoop.security.AccessControlException: Permission denied: user=etl_svc, access=WRITE, "
        'inode="/warehouse/sales.db/fact_orders":hive:hadoop:drwxr-xr-x'
    )
    assert diagnose(log("26/12/05 02:31:40 ERROR FileFormatWriter: Aborting job.", hadoop), "ABEND", 1).category == (
        "permission"
    )
    echo = log("loader: retries=3 timeout=30s batch=500", "loader: 12 rows rejected")
    assert diagnose(echo, "ABEND", 1).category != "timeout"


def test_the_tear_down_after_the_program_failed_is_not_the_cause() -> None:
    text = log(
        "00:52:12.811 ERROR Splitter - cannot open output partition",
        "java.io.FileNotFoundException: /data/work/split/part-04811.csv (Too many open files)",
        "\tat java.base/java.io.FileOutputStream.open0(Native Method)",
        "cdr_split.sh: java rc=1",
        "cdr_split.sh: find: '/data/work/split/.tmp': No such file or directory",
    )
    found = diagnose(text, "ABEND", 1)
    assert found.category == "resource" and "Too many open files" in (found.line or "")


def test_the_line_that_states_the_cause_not_its_echo() -> None:
    sql_server = log(
        "Msg 2627, Level 14, State 1, Server SQLPRD02, Procedure dbo.usp_load_customers, Line 88",
        "Violation of PRIMARY KEY constraint 'PK_Customer'. Cannot insert duplicate key in object 'dbo.Customer'.",
    )
    assert (diagnose(sql_server, "ABEND", 1).line or "").startswith("Violation of PRIMARY KEY")
    zos = log(
        " IEC030I B37-04,IFG0554A,ACTJ0712,STEP020,SORTOUT",
        " IEF450I ACTJ0712 STEP020 - ABEND=SB37 U0000 REASON=00000004",
        " 03.09.13 JOB08812  $HASP395 ACTJ0712 ENDED - ABEND=SB37",
    )
    found = diagnose(zos, "ABEND", None)
    assert found.category == "resource" and "IEC030I" in (found.line or "")
    traceback = log(
        "Traceback (most recent call last):",
        '  File "/opt/md/feeds.py", line 40, in check',
        '    raise FeedNotReady(f"upstream feed {name} not complete (status={st})")',
        "feeds.FeedNotReady: upstream feed BBG_EOD for 2026-12-04 not complete (status=LOADING)",
    )
    found = diagnose(traceback, "ABEND", 1)
    assert found.category == "dependency" and (found.line or "").startswith("feeds.FeedNotReady")


@pytest.mark.parametrize(
    "line",
    [
        "ERROR: Predecessor EUWIN01#INV_LOAD.INV_STAGE is in ABEND state; stage tables are incomplete",
        "Cannot start settlement: clearing cycle 2026-12-05 is still OPEN (expected CLOSED by job CLR_CLOSE)",
        "Lote de remessas 01.12.2026 ainda não liberado pelo job ZSD_LIBERA_REMESSAS",
        "ERRO: A carga do dia anterior (2026-12-07) não foi finalizada",
        "check_stream: job stream ACC#MONTHEND is not in SUCC state (current: HOLD)",
    ],
)
def test_another_jobs_state_is_a_dependency_and_a_rerun_after_it_helps(line: str) -> None:
    found = diagnose(log(line), "ABEND", 1)
    assert (found.category, found.rerun_helps) == ("dependency", "yes")
    assert "rerun" in found.next_en


def test_the_first_program_that_failed_decides_not_the_next_step_that_missed_its_output() -> None:
    text = log(
        "sort: write failed: /tmp/sortA1b2C3: No space left on device",
        "sort_and_load: sort rc=2",
        "SQL*Loader-500: Unable to open file (/data/work/acct/balances_sorted.dat)",
        "SQL*Loader-509: System error: No such file or directory",
        "sort_and_load: sqlldr rc=1",
    )
    found = diagnose(text, "ABEND", 1)
    assert found.category == "resource" and "No space left" in (found.line or "")


def test_a_recovered_error_printed_after_the_abend_is_not_the_cause() -> None:
    # z/OS prints JES's messages first and the program's SYSOUT after them
    text = log(
        " 23.45.07 JOB29971  IEF450I PRDIN44N STEP010 - ABEND=S322 U0000 REASON=00000000",
        " 23.45.08 JOB29971  IEF404I PRDIN44N - ENDED - TIME=23.45.08",
        " ------ JES2 JOB STATISTICS ------",
        "         45.10 MINUTES EXECUTION TIME",
        " ---- SYSTSPRT ----",
        " INA4410I ACCOUNTS SELECTED:  4,018,552",
        " DSNT408I SQLCODE = -911, ERROR:  THE CURRENT UNIT OF WORK HAS BEEN ROLLED BACK DUE TO DEADLOCK",
        " INA4420W DEADLOCK ON TB_ACCRUAL - RETRYING UNIT OF WORK (1 OF 3)",
        " INA4421I RETRY SUCCESSFUL - CONTINUING",
        " INA4430I ACCOUNTS PROCESSED:   3,000,000",
    )
    assert diagnose(text, "ABEND", None).category == "timeout"


def test_another_logs_lines_quoted_in_this_one_are_not_its_error() -> None:
    text = log(
        "print_invoices: predecessor state=ABEND rc=60, last lines of its stdlist:",
        "  | ORA-00060: deadlock detected while waiting for resource",
        "print_invoices: ABORT - predecessor LNXBIL01#BILLING.CLOSE_CYCLE ended in ABEND; cycle not closed",
    )
    assert diagnose(text, "ABEND", 6).category == "dependency"


def test_the_jobs_own_script_not_found_is_a_launch_problem_even_after_other_noise() -> None:
    text = log(
        "/home/cobprd/.profile: linha 14: /home/cobprd/.ora_env: Permissão negada",
        "/bin/bash: /opt/batch/fin/gl_post.sh: Arquivo ou diretório inexistente",
    )
    found = diagnose(text, "ABEND", 127)
    assert found.category == "agent" and "gl_post.sh" in (found.line or "")


def test_a_generic_java_exception_gives_way_to_what_its_message_says() -> None:
    text = log(
        "org.springframework.batch.item.ItemStreamException: Failed to initialize the reader",
        "Caused by: java.lang.IllegalStateException: Input resource must exist (reader is in 'strict' mode): "
        "file [/data/in/claims/claims_20260310.xml]",
    )
    assert diagnose(text, "ABEND", 1).category == "missing_input"
