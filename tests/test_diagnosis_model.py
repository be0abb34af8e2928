"""An unsure diagnosis refined by a configured model that must quote the log; a quote that is not in
the log, a failing model or a confident reading leave the catalogue's reading as it was."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.runnables import RunnableLambda

from tools.diagnosis import diagnose
from tools.diagnosis_model import Reading, refined

pytestmark = pytest.mark.fast

LOG = "Starting settlement\nstep extract: SETTLE_IN feed flag shows WAITING since 01:10\nexit 3\n"


class Scripted:
    """A chat model whose structured output is scripted (or raises); counts its calls."""

    def __init__(self, reading: Reading | Exception) -> None:
        self.reading, self.calls = reading, 0

    def with_structured_output(self, schema: Any) -> Any:
        assert schema is Reading

        def answer(_: Any) -> Reading:
            self.calls += 1
            if isinstance(self.reading, Exception):
                raise self.reading
            return self.reading

        return RunnableLambda(answer)


def reading(quote: str) -> Reading:
    return Reading(category="dependency", quote=quote, rerun_helps="no", meaning="the upstream feed is not done")


async def test_an_unsure_reading_is_refined_when_the_model_quotes_the_log() -> None:
    unsure = diagnose(LOG, "ABEND", 3)
    assert unsure.confidence < 0.5
    model = Scripted(reading("SETTLE_IN feed flag shows WAITING"))
    found = await refined(unsure, LOG, model)
    assert (found.category, found.line_number, found.message_id) == ("dependency", 2, "model")
    assert found.line == "step extract: SETTLE_IN feed flag shows WAITING since 01:10"


@pytest.mark.parametrize("answer", [reading("the feed told me so in a dream"), RuntimeError("500 from the model")])
async def test_an_invented_quote_or_a_failing_model_keeps_the_catalogue(answer: Reading | Exception) -> None:
    unsure = diagnose(LOG, "ABEND", 3)
    assert await refined(unsure, LOG, Scripted(answer)) == unsure


async def test_a_confident_reading_or_no_model_never_asks() -> None:
    sure = diagnose("ORA-00942: table or view does not exist", "ABEND", 8)
    model = Scripted(reading("ORA-00942: table or view does not exist"))
    assert await refined(sure, "ORA-00942: table or view does not exist", model) == sure and model.calls == 0
    unsure = diagnose(LOG, "ABEND", 3)
    assert await refined(unsure, LOG, None) == unsure
