"""aws-chunked bodies with a checksum trailer as botocore encodes them
(STREAMING-UNSIGNED-PAYLOAD-TRAILER: botocore.httpchecksum.AwsChunkedWrapper with each
checksum class), for tests/chunk_peers.rs. `_CHECKSUM_CLS` is botocore's own table of
checksum classes (private, but the venv pins botocore: xtask/requirements-interop.txt).

stdin: {"sizes": [...], "chunk_sizes": [...]}.
stdout: a JSON array of {"algorithm", "trailer", "chunk_size", "data" (hex), "body" (hex)}.
"""

import io
import json
import sys

from botocore.httpchecksum import _CHECKSUM_CLS, AwsChunkedWrapper

ALGORITHMS = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"]


def main():
    spec = json.load(sys.stdin)
    out = []
    for algorithm in ALGORITHMS:
        cls = _CHECKSUM_CLS[algorithm]
        for chunk_size in spec["chunk_sizes"]:
            for size in spec["sizes"]:
                data = bytes((i * 7 + size) % 256 for i in range(size))
                wrapper = AwsChunkedWrapper(
                    io.BytesIO(data), checksum_cls=cls,
                    checksum_name=f"x-amz-checksum-{algorithm}", chunk_size=chunk_size)
                body = b""
                while True:
                    piece = wrapper.read(8192)
                    if not piece:
                        break
                    body += piece
                out.append({"algorithm": algorithm, "trailer": f"x-amz-checksum-{algorithm}",
                            "chunk_size": chunk_size, "data": data.hex(), "body": body.hex()})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
