"""`onethread kb …` as an editor runs it, and a running gateway picking up the change."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import aiohttp

from gateway.settings import DEMO_KB_DIR
from tests.support import REPO_ROOT, Visitor, free_port, gateway_process


def onethread(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ONETHREAD_STORE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
        "PYTHONPATH": str(REPO_ROOT),
    }
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_export_then_import_round_trips(tmp_path: Path) -> None:
    exported = tmp_path / "exported"
    result = onethread(tmp_path, "kb", "export", str(exported))
    assert result.returncode == 0, result.stderr
    assert len(list((exported / "articles").glob("*.md"))) == 55
    again = onethread(tmp_path, "kb", "import", str(exported))
    assert again.returncode == 0, again.stderr
    assert "imported 55 articles and 10 intents as version 2" in again.stdout
    second = tmp_path / "second"
    assert onethread(tmp_path, "kb", "export", str(second)).returncode == 0
    for article in (exported / "articles").iterdir():
        assert (second / "articles" / article.name).read_text() == article.read_text()


def test_a_broken_folder_is_refused_whole_with_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    shutil.copytree(DEMO_KB_DIR, folder)
    broken = folder / "articles" / "free-shipping.md"
    broken.write_text(broken.read_text().replace("questions:", "question:", 1))
    (folder / "articles" / "gift-cards-buy.md").write_text("no front matter here\n")
    result = onethread(tmp_path, "kb", "import", str(folder))
    assert result.returncode == 1
    assert "free-shipping.md:4:" in result.stderr
    assert "gift-cards-buy.md" in result.stderr
    assert "nothing imported" in result.stderr
    versions = onethread(tmp_path, "kb", "ask", "do you offer free shipping", "--json")
    assert json.loads(versions.stdout)["article_id"] == "free-shipping"


def test_ask_prints_decision_candidates_and_the_channel_reply(tmp_path: Path) -> None:
    result = onethread(tmp_path, "kb", "ask", "how long does shipping take", "--channel", "sms")
    assert result.returncode == 0, result.stderr
    assert "decision: answer" in result.stdout
    assert "article:  shipping-times" in result.stdout
    assert "candidates:" in result.stdout
    assert "**" not in result.stdout.split("reply:")[1]


async def test_a_running_gateway_answers_from_a_newly_imported_folder(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    shutil.copytree(DEMO_KB_DIR, folder)
    article = folder / "articles" / "gift-card-balance.md"
    head, _, _ = article.read_text().partition("\n---\n")
    article.write_text(head + "\n---\nCall the balance line at 1-800-555-0199.\n")
    port = free_port()
    async with aiohttp.ClientSession() as session:
        with gateway_process(tmp_path, port, ONETHREAD_KNOWLEDGE_POLL_SECONDS="0.2") as proc:
            assert onethread(tmp_path, "kb", "import", str(folder)).returncode == 0
            # The gateway notices the new version on its own: no restart, no call.
            await asyncio.to_thread(proc.wait_for_log, "answering from knowledge version 2")
            v = Visitor(await session.ws_connect(f"http://127.0.0.1:{port}/webchat/ws"))
            await v.hello("after-import")
            reply = await v.say("how do i check my gift card balance")
            assert "1-800-555-0199" in reply["text"]
            await v.ws.close()
