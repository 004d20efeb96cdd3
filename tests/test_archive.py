"""ZIP framing of image responses: round trips, ordering and every way a body can be broken."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from novelai_core.errors import DecodeError
from novelai_core.transport.archive import build_zip, read_zip

FILES = [("image_0.png", b"\x89PNG first"), ("image_1.png", b"\x89PNG second" * 100)]


def test_a_built_zip_reads_back_the_same_files_in_order() -> None:
    assert read_zip(build_zip(FILES)) == FILES


def test_built_zips_are_stored_uncompressed_and_in_the_given_order() -> None:
    data = build_zip([("b.png", b"x"), ("a.png", b"y")])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
    assert [info.filename for info in infos] == ["b.png", "a.png"]
    assert {info.compress_type for info in infos} == {zipfile.ZIP_STORED}


def test_entries_are_ordered_by_numeric_image_index_not_by_name() -> None:
    names = [f"image_{i}.png" for i in (10, 2, 9, 0, 11, 1)]
    data = build_zip([(name, name.encode()) for name in names])
    result = read_zip(data)
    assert [name for name, _ in result] == [f"image_{i}.png" for i in (0, 1, 2, 9, 10, 11)]
    assert all(content == name.encode() for name, content in result)


def test_unexpected_names_come_after_the_images() -> None:
    data = build_zip([("notes.txt", b"n"), ("image_1.webp", b"b"), ("image_0.webp", b"a")])
    assert [name for name, _ in read_zip(data)] == ["image_0.webp", "image_1.webp", "notes.txt"]


def test_deflated_archives_from_other_servers_are_read_too() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("image_0.png", b"abc" * 1000)
    assert read_zip(out.getvalue()) == [("image_0.png", b"abc" * 1000)]


def test_an_html_error_page_is_reported_with_its_first_characters() -> None:
    page = b"<!DOCTYPE html>\n<html><title>Attention Required! | Cloudflare</title>" + b"x" * 5000
    with pytest.raises(DecodeError, match="not a ZIP") as info:
        read_zip(page)
    assert "<!DOCTYPE html> <html><title>Attention Required! | Cloudflare" in str(info.value)
    assert len(str(info.value)) < 300


def test_a_json_error_body_is_quoted_in_the_message() -> None:
    with pytest.raises(DecodeError, match="statusCode"):
        read_zip(b'{"statusCode": 500, "message": "Error generating image"}')


def test_an_empty_body_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="empty body"):
        read_zip(b"")


@pytest.mark.parametrize("keep", [10, 40, 100, -1])
def test_a_truncated_archive_is_a_decode_error(keep: int) -> None:
    data = build_zip(FILES)
    with pytest.raises(DecodeError, match="damaged or truncated"):
        read_zip(data[:keep])


def test_a_flipped_byte_in_the_content_fails_the_crc_check() -> None:
    data = bytearray(build_zip([("image_0.png", b"payload bytes here")]))
    offset = bytes(data).index(b"payload")
    data[offset] ^= 0xFF
    with pytest.raises(DecodeError, match="CRC"):
        read_zip(bytes(data))


def test_an_archive_without_files_is_a_decode_error() -> None:
    # An empty ZIP is only an end record, so give it a local header first, as a real body has.
    only_dir = build_zip([("folder/", b"")])
    with pytest.raises(DecodeError, match="no files"):
        read_zip(only_dir)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_either_read_or_raise_decode_error(data: bytes) -> None:
    try:
        entries = read_zip(data)
    except DecodeError:
        return
    assert entries
    assert all(isinstance(name, str) and isinstance(body, bytes) for name, body in entries)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_damaged_real_archives_only_raise_decode_error(data: st.DataObject) -> None:
    body = bytearray(build_zip(FILES))
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(body) - 1))
        body[index] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(4, len(body)))
    try:
        entries = read_zip(bytes(body[:cut]))
    except DecodeError:
        return
    # A surviving archive passed the CRC checks, so its content is what was packed.
    assert entries == FILES
