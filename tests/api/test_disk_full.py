"""A full disk, for real: the index on a small tmpfs filled while articles are posted. Each write that cannot be
stored answers 507 naming the folder and the space it needed, leaves nothing behind, and loses nothing acknowledged;
searches keep answering, and the next write after space is freed succeeds. (Needs root to mount a tmpfs: elsewhere
skipped; tests/index/test_writer.py injects the same ENOSPC everywhere.)"""

import os
import subprocess

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from index.builder import build_index
from index.check import check_index, removable
from index.tokenize import tokenizer_from

AUTH = {"Authorization": "Bearer s3cret"}
TEXT = "工会为外卖配送员建起暖心驿站，提供热水、充电和休息的地方。" * 400  # ~30 KB of UTF-8 a paragraph


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_answers_507_and_recovers(small_disk, settings, tiny_articles, fake_encoder):
    settings = settings.model_copy(update={"index_dir": small_disk / "index", "write_token": "s3cret"})
    build_index(settings.index_dir, tiny_articles, tokenizer_from(settings), fake_encoder, ["tiny"], quiet=True)
    filler = small_disk / "filler"  # the disk's other tenants: all but ~700 KB of it
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    filler.write_bytes(b"\0" * max(0, free - 700_000))
    with TestClient(create_app(settings, encoder=fake_encoder, merges=False)) as client:
        stored, refused, article = [], None, None
        for n in range(200):
            article = {"id": f"big{n}", "title": f"第{n}篇", "text": "\n".join([TEXT] * 3)}
            response = client.post("/articles", json={"articles": [article]}, headers=AUTH)
            if response.status_code == 200:
                stored.append(article["id"])
                continue
            refused = response
            break
        assert stored and refused is not None and refused.status_code == 507, refused and refused.text
        message = refused.json()["message"]
        assert str(settings.index_dir) in message and "MB" in message and "free" in message
        assert not [p.name for p in settings.index_dir.iterdir() if p.name.startswith("tmp-")]
        assert removable(settings.index_dir) == []
        assert client.get("/search", params={"q": "外卖配送员", "mode": "bm25"}).status_code == 200
        for aid in stored:
            assert client.get(f"/articles/{aid}").status_code == 200
        assert check_index(settings.index_dir)[1] == []
        filler.unlink()  # space freed: the same write goes through
        again = client.post("/articles", json={"articles": [article]}, headers=AUTH)
        assert again.status_code == 200 and client.get(f"/articles/{article['id']}").status_code == 200
    assert not filler.exists() and check_index(settings.index_dir)[1] == []
