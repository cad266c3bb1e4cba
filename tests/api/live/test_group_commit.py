"""Group commit: writes waiting while one commits go together into the next commit, each answered once, in order."""

import threading
import time

import pytest

from api.live.group_commit import GroupCommitter
from index.update import PreparedUpdate
from index.writer import UnknownArticleError


def update(n: int) -> PreparedUpdate:
    return PreparedUpdate([], [f"a{n}"], True)


class GatedCommit:
    """Records each batch; the first commit waits until the test opens the gate."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.gate = threading.Event()
        self.fail_on = fail_on

    def __call__(self, batch):
        self.batches.append([u.deletes[0] for u in batch])
        if len(self.batches) == 1:
            assert self.gate.wait(30)
        if self.fail_on in self.batches[-1] and len(self.batches) > 1:
            raise OSError("disk gone")
        return [UnknownArticleError(u.deletes[0]) if u.deletes[0] == "a3" else None for u in batch]


def test_writes_waiting_on_a_commit_share_the_next_and_each_hears_its_own_answer():
    commit = GatedCommit()
    committer = GroupCommitter(commit)
    answers: dict[int, object] = {}

    def send(n: int) -> None:
        try:
            committer.submit(update(n))
            answers[n] = "ok"
        except UnknownArticleError as err:
            answers[n] = err

    first = threading.Thread(target=send, args=(0,))
    first.start()
    while not commit.batches:  # the first write is committing, holding the committer
        time.sleep(0.001)
    others = [threading.Thread(target=send, args=(n,)) for n in range(1, 6)]
    for thread in others:
        thread.start()
    while committer._jobs.qsize() < 5:  # everyone else waits
        time.sleep(0.001)
    commit.gate.set()
    for thread in [first, *others]:
        thread.join(30)
    assert commit.batches[0] == ["a0"] and sorted(commit.batches[1]) == ["a1", "a2", "a3", "a4", "a5"]
    assert len(commit.batches) == 2  # five writes, one commit
    assert isinstance(answers.pop(3), UnknownArticleError) and set(answers.values()) == {"ok"}


def test_a_failed_batch_answers_every_write_in_it():
    commit = GatedCommit(fail_on="a1")
    commit.gate.set()
    committer = GroupCommitter(commit)
    committer.submit(update(0))
    with pytest.raises(OSError, match="disk gone"):
        committer.submit(update(1))
    committer.submit(update(2))  # the committer goes on after a failure
    assert commit.batches == [["a0"], ["a1"], ["a2"]]
