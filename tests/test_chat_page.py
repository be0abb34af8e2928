"""The chat page end to end in headless Chromium (Debian's chromium, driven by Playwright): paste a
key, ask, see the streamed answer and the tool list; an operator's action shows up for approval."""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.async_api import async_playwright

from tests.live import LiveServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


async def test_chat_page_streams_an_answer(api: LiveServer, keys: dict[str, str], tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (make test installs it)"
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = await browser.new_page()
            await page.goto(api.url + "/")
            await page.fill("#key", keys["operator"])
            await page.fill("#message", "why did PAYROLL_NIGHTLY fail?")
            await page.click("button[type=submit]")
            answer = page.locator("#log .a").first
            await answer.filter(has_text="file not found").wait_for(timeout=30_000)
            assert "is ABEND, return code 12" in await answer.inner_text()
            await page.locator("#tools .tool").filter(has_text="get_job_logs → ok").wait_for()
            await page.locator("#thread").filter(has_text="thread t-").wait_for()
            await answer.locator(".rate button").first.click()  # thumbs up, stored as feedback
            await page.locator('.rate[data-rated="1"]').wait_for(timeout=10_000)
            await page.fill("#message", "rerun it")
            await page.click("button[type=submit]")
            await page.locator(".approval").first.wait_for(timeout=30_000)
            assert "rerun AGT1#PAYROLL_DAILY.PAYROLL_NIGHTLY" in await page.locator(".approval").first.inner_text()
            await page.locator(".approval input").first.fill("file restored")
            await page.locator(".approval button[data-k=approve]").first.click()
            await page.locator("#log .a").filter(has_text="Done: rerun").wait_for(timeout=30_000)
            await page.screenshot(path=str(tmp_path / "chat.png"), full_page=True)
        finally:
            await browser.close()
