from transcoder.client import parse_sse


def test_events_comments_and_multiline_data():
    lines = ["retry: 2000", "", ": keep-alive", "", "id: 3", "event: video", "data: {\"a\":", "data: 1}", "",
             "event: end", "data: {}", ""]  # fmt: skip
    assert list(parse_sse(iter(lines))) == [("video", "3", '{"a":\n1}'), ("end", "", "{}")]


def test_multipart_body_streams_the_file_and_parses_as_a_form(tmp_path):
    import io

    from werkzeug.formparser import parse_form_data

    from transcoder.client import MultipartFile

    path = tmp_path / 'été "à" la\\plage.mp4'
    data = bytes(range(256)) * 9000  # over two blocks
    path.write_bytes(data)
    body = MultipartFile(path)
    blocks = list(body)
    raw = b"".join(blocks)
    assert len(raw) == len(body) and max(len(b) for b in blocks) <= MultipartFile.BLOCK
    environ = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": body.content_type, "CONTENT_LENGTH": str(len(raw)),
               "wsgi.input": io.BytesIO(raw)}  # fmt: skip
    _, form, files = parse_form_data(environ)
    assert list(files) == ["file"] and not form
    assert files["file"].read() == data
    assert files["file"].filename.startswith("été ")
