"""The write actions, one row each of ``ACTIONS``: when it is valid (notes §6), how it is sent, how
its effect shows on the job (to reconcile a write nobody heard the end of) and what it does
downstream; and the state of a job an approval is bound to. ``tools.executor`` is the only code that
sends them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .hwa import HWAClient, JobAction, JobInPlan, Justification
from .hwa.models import WAITING_STATUSES, ActionResult
from .store.approvals import Approval

Check = Callable[[JobInPlan], str | None]  # why the action is not valid for the job now, or None
Send = Callable[[HWAClient, Approval, Justification], Awaitable[ActionResult]]
Applied = Callable[[dict[str, Any], JobInPlan], bool]  # does the job show the action's effect?


def canceled(job: JobInPlan) -> bool:
    return bool(job.last_run_composite_status and job.last_run_composite_status.canceled)


def unresolved_dependencies(job: JobInPlan) -> list[str] | None:
    """The ids of the job's dependencies the engine does not count as satisfied (None: not read)."""
    if job.dependencies is None:
        return None
    return sorted(
        str(d.id or d.job_name or d.name or d.dependency_type)
        for d in job.dependencies
        if not (d.satisfied or d.dependency_status == "SATISFIED")
    )


def _rerun_check(job: JobInPlan) -> str | None:
    run = job.last_run
    if run is None or not (job.status in {"SUCC", "ABEND", "FAIL"} or canceled(job)):
        return "rerun is allowed from SUCC, ABEND, FAIL or a cancelled job"
    if run.last_in_rerun_chain is False:
        return f"run {run.id} is not the last in its rerun chain: the job was rerun already"
    return None


def _release_dependencies_check(job: JobInPlan) -> str | None:
    if job.status not in WAITING_STATUSES:
        return "only a job still waiting has dependencies to release"
    if unresolved_dependencies(job) == []:
        return "it has no unresolved dependencies left (released already?)"
    return None


def _by_id(action: JobAction) -> Send:
    return lambda client, approval, why: client.job_action(approval.target["job_id"], action, why)


def _rerun(client: HWAClient, approval: Approval, why: Justification) -> Awaitable[ActionResult]:
    return client.rerun_run(approval.target["run_id"], why)


@dataclass(frozen=True)
class WriteAction:
    key: str  # the name in APPROVAL_FOUR_EYES_ACTIONS and in the approval record
    verb: str  # what the operator reads: "rerun", "hold", "confirm SUCC"…
    check: Check
    send: Send
    applied: Applied
    consequence: str = ""  # what the engine does downstream (shown on the approval card)
    consequence_pt: str = ""  # the same, in Portuguese
    verb_pt: str = ""  # the verb in Portuguese: "reexecutar", "confirmar como SUCC"…
    tool: str = ""  # the write tool that asks for it (tools.catalog.write registers one per name)
    request: tuple[str, str] | None = None  # the verb a user asks with (en, pt); its en word is the
    # classifier's action; None: asked only by a model through the tool
    choice: str | None = None  # for a tool with several actions: its ``result`` argument that picks this one
    description: str = ""  # the tool's description (on the first action of a tool)
    tags: tuple[str, ...] = ("action",)

    def consequence_for(self, seen: dict[str, Any], language: str) -> str:
        """What it does downstream, for the state the requester saw: a rerun of a job whose last run
        ended SUCC says that the work runs twice."""
        if self.key == "rerun" and seen.get("status") == "SUCC":
            if language == "pt":
                return "A última execução terminou em SUCC: um rerun processa o mesmo trabalho DUAS VEZES."
            return "Its last run ended SUCC: a rerun processes the same work TWICE."
        return self.consequence_pt if language == "pt" else self.consequence


ACTIONS: dict[str, WriteAction] = {
    a.key: a
    for a in (
        WriteAction(
            "rerun",
            "rerun",
            _rerun_check,
            _rerun,
            lambda seen, job: job.last_run is not None and job.last_run.id != seen.get("run_id"),
            "A new run of the job with the same dependencies; if its last run ended SUCC, its work is done twice.",
            "Uma nova execução do job com as mesmas dependências; se a última terminou em SUCC, o trabalho é"
            " feito duas vezes.",
            verb_pt="reexecutar",
            tool="rerun_job",
            request=("rerun", "reexecutar"),
            tags=("action", "rerun"),
            description="Rerun a job that ended (SUCC, ABEND, FAIL) or was cancelled: a new run of the same job, same "
            "dependencies. Needs an operator's approval. Do not rerun before the cause of the failure is fixed.",
        ),
        WriteAction(
            "hold",
            "hold",
            lambda j: (
                None
                if j.status in WAITING_STATUSES and not canceled(j) and j.priority != 0
                else "only a waiting job that is not already held can be held"
            ),
            _by_id(JobAction.HOLD),
            lambda seen, job: job.priority == 0,
            "The job will not start until it is released; its successors wait for it.",
            "O job não começa até ser liberado; seus sucessores esperam por ele.",
            verb_pt="segurar",
            tool="hold_job",
            request=("hold", "segurar"),
            description="Put a job that has not started yet on hold (priority 0) so it will not start. Needs approval.",
        ),
        WriteAction(
            "release",
            "release",
            lambda j: None if j.priority == 0 else "it is not held",
            _by_id(JobAction.RELEASE),
            lambda seen, job: job.priority != 0,
            "The job starts as soon as its own dependencies are met.",
            "O job começa assim que suas próprias dependências forem atendidas.",
            verb_pt="liberar",
            tool="release_job",
            request=("release", "liberar"),
            description="Release a held job (restore its priority) so it can start when its dependencies are met."
            " Needs approval.",
        ),
        WriteAction(
            "cancel",
            "cancel",
            lambda j: (
                "a successful or already cancelled job cannot be cancelled"
                if j.status == "SUCC" or canceled(j)
                else None
            ),
            _by_id(JobAction.CANCEL),
            lambda seen, job: canceled(job),
            "A job not started never runs and its successors are released at once (they run without its"
            " output); a running job keeps running.",
            "Um job que não começou nunca roda e seus sucessores são liberados na hora (rodam sem a saída"
            " dele); um job em execução continua rodando.",
            verb_pt="cancelar",
            tool="cancel_job",
            request=("cancel", "cancelar"),
            description="Cancel a job: one that has not started will never run, and its dependents are released at"
            " once. A running job keeps running. Needs approval.",
        ),
        WriteAction(
            "kill",
            "kill",
            lambda j: None if j.status == "EXEC" else "only a running (EXEC) job can be killed",
            _by_id(JobAction.KILL),
            lambda seen, job: job.status == "ABEND",
            "The running job ends ABEND; its successors are NOT released.",
            "O job em execução termina em ABEND; seus sucessores NÃO são liberados.",
            verb_pt="matar",
            tool="kill_job",
            request=("kill", "matar"),
            description="Kill a running job; it ends in ABEND and its dependents are NOT released. Needs approval.",
        ),
        WriteAction(
            "confirm_succ",
            "confirm SUCC",
            lambda j: None if j.status in {"EXEC", "PEND", "ABEND"} else "confirm SUCC applies to ABEND, EXEC, PEND",
            _by_id(JobAction.CONFIRM_SUCC),
            lambda seen, job: job.status == "SUCC",
            "The job counts as SUCC: its successors start although its work may not be done.",
            "O job passa a contar como SUCC: seus sucessores começam, embora o trabalho possa não ter sido feito.",
            verb_pt="confirmar como SUCC",
            tool="confirm_job",
            request=("confirm", "confirmar"),
            choice="succ",
            description="Set a job's result by hand: confirm SUCC (its successors then run) or ABEND. Only when the"
            " work is known to be done (or known to have failed). Needs approval.",
        ),
        WriteAction(
            "confirm_abend",
            "confirm ABEND",
            lambda j: None if j.status in {"EXEC", "PEND"} else "confirm ABEND applies to EXEC, PEND",
            _by_id(JobAction.CONFIRM_ABEND),
            lambda seen, job: job.status == "ABEND" and seen.get("status") != "ABEND",
            "The job counts as ABEND: its successors keep waiting.",
            "O job passa a contar como ABEND: seus sucessores continuam esperando.",
            verb_pt="confirmar como ABEND",
            tool="confirm_job",
            request=("confirm", "confirmar"),
            choice="abend",
        ),
        WriteAction(
            "release_dependencies",
            "release all dependencies of",
            _release_dependencies_check,
            _by_id(JobAction.RELEASE_ALL_DEPENDENCIES),
            lambda seen, job: job.status != seen.get("status") or unresolved_dependencies(job) == [],
            "The job may start now, without its predecessors' output, files, prompts or start time.",
            "O job pode começar agora, sem a saída dos predecessores, arquivos, prompts ou horário de início.",
            verb_pt="liberar as dependências de",
            tool="release_job_dependencies",
            tags=("action", "dependencies"),
            description="Release all dependencies (time and predecessors) of a waiting job so it can start now; it"
            " then runs without its predecessors' output. Needs approval.",
        ),
    )
}


# what the table above implies, read by the write tools, the offline model and the answers
TOOLS: dict[str, list[WriteAction]] = {}
for _action in ACTIONS.values():
    TOOLS.setdefault(_action.tool, []).append(_action)
REQUEST_WORDS: dict[str, dict[str, str]] = {  # the classifier's action → its verb in en and pt
    a.request[0]: {"en": a.request[0], "pt": a.request[1]} for a in ACTIONS.values() if a.request
}
REQUEST_TOOLS: dict[str, str] = {a.request[0]: a.tool for a in ACTIONS.values() if a.request}


def action_for(tool: str, arguments: dict[str, Any]) -> WriteAction:
    """The action a write tool's arguments ask for (a tool with several picks by ``result``)."""
    actions = TOOLS[tool]
    return next((a for a in actions if a.choice == arguments.get("result")), actions[0])


def seen_state(job: JobInPlan) -> dict[str, Any]:
    """The target of an approval: the exact job (and run) and the state the requester saw."""
    run = job.last_run
    return {
        "job_id": job.id,
        "job": job.qualified_name,
        "run_id": run.id if run else None,
        "status": job.status,
        "return_code": job.return_code,
        "priority": job.priority,
        "canceled": canceled(job),
        "scheduled": job.sched_time.strftime("%Y-%m-%dT%H:%M:%SZ") if job.sched_time else None,
    } | ({"unresolved_dependencies": deps} if (deps := unresolved_dependencies(job)) is not None else {})


def describe_state(state: dict[str, Any]) -> str:
    rc = f" rc {state['return_code']}" if state.get("return_code") is not None else ""
    extra = " (cancelled)" if state.get("canceled") else (" (held)" if state.get("priority") == 0 else "")
    return f"{state.get('status')}{rc}{extra}"


def what_changed(seen: dict[str, Any], now: dict[str, Any]) -> str | None:
    """Why the job is no longer the one the requester saw, or None."""
    for key in ("status", "run_id", "return_code", "canceled"):
        if seen.get(key) != now.get(key):
            return f"was {describe_state(seen)} when requested, now {describe_state(now)}"
    before, after = seen.get("unresolved_dependencies"), now.get("unresolved_dependencies")
    added = set(after or ()) - set(before or ()) if before is not None else set()
    if added:
        return f"it has dependencies the request did not show ({', '.join(sorted(added))})"
    return None


__all__ = ["ACTIONS", "WriteAction", "describe_state", "seen_state", "what_changed"]
