"""A generated section of a Markdown document, between two markers: the scripts that
regenerate tables in docs/ (the benchmarks, the detection report) write theirs through here,
so a rerun replaces only its own section and keeps everything around it."""
import os


def write_section(doc, begin, end, generated, heading, notes_marker=None, new_doc="# Benchmarks\n"):
    """Puts `generated` (text that starts with the `begin` marker, without `end`) into `doc`.

    An existing section is replaced. With `notes_marker`, hand-written notes that follow that
    marker inside the section (up to `end`) are kept after the new text. A document without the
    section gets it appended under `heading`; a missing document starts as `new_doc`."""
    text = open(doc).read() if os.path.exists(doc) else new_doc
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        mine, tail = rest.split(end, 1)
        notes = mine.split(notes_marker, 1)[1] if notes_marker and notes_marker in mine else ""
        text = head + generated + notes.lstrip("\n") + end + tail
    else:
        text = text.rstrip("\n") + f"\n\n{heading}\n\n" + generated + end + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(doc)), exist_ok=True)
    with open(doc, "w") as f:
        f.write(text)
