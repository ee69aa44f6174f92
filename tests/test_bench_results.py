"""bench/results.py keeps one section per benchmark with the latest entry first."""

from __future__ import annotations

from bench.results import HEADER, insert_entry


def test_a_new_entry_goes_first_in_its_own_section() -> None:
    text = insert_entry(HEADER, "bench.ingest", "Ingest", ["### 1", "", "first"])
    text = insert_entry(text, "bench.reads", "Reads", ["### 2", "", "reads"])
    text = insert_entry(text, "bench.ingest", "Ingest", ["### 3", "", "second"])

    assert text.count("## bench.ingest\n") == 1
    ingest = text.index("## bench.ingest")
    reads = text.index("## bench.reads")
    assert ingest < text.index("### 3") < text.index("### 1") < reads < text.index("### 2")
    assert text.startswith(HEADER)


def test_the_section_intro_stays_above_the_entries() -> None:
    text = HEADER + "\n## bench.summaries\n\nWhat the figures mean.\n\n### old\n\nold entry\n"
    text = insert_entry(text, "bench.summaries", "Summaries", ["### new", "", "new entry"])
    assert text.index("What the figures mean.") < text.index("### new") < text.index("### old")
