"""`python -m knowledge links --check`: every link is fetched; redirects, errors and timeouts are
reported, and failures make the command exit 1. A copy of the knowledge base is pointed at a
local aiohttp server on 127.0.0.1 that answers ok, redirect, 404 and never (a timeout)."""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from knowledge.linkcheck import check_links
from knowledge.loader import DATA_DIR
from knowledge.sources import read_sources

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 0.5
"""Per link, for the test; the server's slow page never answers, so any value times out."""


class LocalSite:
    """/ok (200), /moved (302 to /ok), /missing (404), /slow (no answer until the test ends)."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> LocalSite:
        app = web.Application()

        async def ok(request: web.Request) -> web.Response:
            return web.Response(text="ok")

        async def moved(request: web.Request) -> web.Response:
            raise web.HTTPFound("/ok")

        async def slow(request: web.Request) -> web.Response:
            await self.release.wait()
            return web.Response(text="too late")

        app.router.add_get("/ok", ok)
        app.router.add_get("/moved", moved)
        app.router.add_get("/slow", slow)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self.release.set()
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def site() -> AsyncIterator[LocalSite]:
    running = await LocalSite().start()
    yield running
    await running.stop()


def kb_pointing_at(site: LocalSite, tmp_path: Path, pages: dict[str, str]) -> Path:
    """A copy of the knowledge base whose every link goes to `site`: the platforms' help pages to
    `pages[platform]`, every other address to /ok."""
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    for path in [*data.glob("*.yaml"), *data.glob("guides/*.yaml")]:
        text = path.read_text(encoding="utf-8")
        if path.name == "platforms.yaml":
            for platform, page in pages.items():
                text = re.sub(rf"(- id: {platform}\n(?:    .*\n)*?    help_url: )\S+", rf"\g<1>{site.url}{page}", text)
        text = re.sub(r"https://[^\s\"”)]+", f"{site.url}/ok", text)
        path.write_text(text, encoding="utf-8")
    return data


async def run_cli(data: Path, *args: str) -> tuple[int, str]:
    """The command as a separate process, so that this event loop keeps serving the site."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "knowledge",
        "--data",
        str(data),
        "links",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode()


PAGES = {"facebook": "/ok", "instagram": "/moved", "linkedin": "/missing", "twitter": "/slow"}


async def test_check_reports_ok_redirect_404_and_timeout_and_exits_1(site: LocalSite, tmp_path: Path) -> None:
    data = kb_pointing_at(site, tmp_path, PAGES)
    code, out = await run_cli(data, "--check", "--timeout", str(TIMEOUT))
    assert code == 1, out
    lines = {line.split()[1]: line for line in out.splitlines() if line.split() and line.split()[0].isupper()}
    assert lines[f"{site.url}/ok"].startswith("OK")
    assert (
        lines[f"{site.url}/moved"].startswith("REDIRECTED") and f"-> {site.url}/ok (302)" in lines[f"{site.url}/moved"]
    )
    assert lines[f"{site.url}/missing"].startswith("FAILED") and "HTTP 404" in lines[f"{site.url}/missing"]
    assert (
        lines[f"{site.url}/slow"].startswith("FAILED")
        and f"no answer within {TIMEOUT:g} s" in lines[f"{site.url}/slow"]
    )
    assert re.search(r"platforms\.yaml:\d+", lines[f"{site.url}/missing"])  # where to fix it
    assert out.rstrip().splitlines()[-1] == "4 links: 1 ok, 1 redirected, 2 failed"


async def test_redirects_alone_are_reported_but_do_not_fail(site: LocalSite, tmp_path: Path) -> None:
    data = kb_pointing_at(site, tmp_path, {"instagram": "/moved"})
    code, out = await run_cli(data, "--check", "--timeout", str(TIMEOUT))
    assert code == 0, out
    assert "REDIRECTED" in out and "0 failed" in out


async def test_without_check_every_link_is_listed_with_its_file_and_line_and_nothing_is_fetched(tmp_path: Path) -> None:
    code, out = await run_cli(DATA_DIR)
    assert code == 0, out
    listed = [line.split("\t") for line in out.splitlines()]
    assert len(listed) == len(read_sources().links)
    for place, url, where in listed:
        file, line = place.rsplit(":", 1)
        assert url in (ROOT / file).read_text(encoding="utf-8").splitlines()[int(line) - 1]


async def test_check_links_fetches_each_address_once_and_keeps_the_order(site: LocalSite) -> None:
    urls = [f"{site.url}/missing", f"{site.url}/ok", f"{site.url}/ok", "http://127.0.0.1:9/refused"]
    results = await check_links(urls, timeout=TIMEOUT)
    assert [r.url for r in results] == [f"{site.url}/missing", f"{site.url}/ok", "http://127.0.0.1:9/refused"]
    assert [r.outcome for r in results] == ["failed", "ok", "failed"]
    assert results[2].error  # no connection: said why
