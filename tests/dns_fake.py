"""A DNS server for the tests: answers TXT questions from a dict, over UDP on 127.0.0.1, so the code that asks DNS
(accounts.domains, in the test process or a Celery worker of the running stack, via DOMAIN_DNS_SERVERS) is the real
one. Every other question is NXDOMAIN."""

import socket
import threading

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


class FakeDNS:
    def __init__(self):
        self.records: dict[str, list[str]] = {}  # name (no final dot) → TXT strings
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, name="fake-dns", daemon=True)

    def __enter__(self) -> "FakeDNS":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()

    def _serve(self) -> None:
        while True:
            try:
                data, sender = self.sock.recvfrom(4096)
            except OSError:  # closed
                return
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            question = query.question[0]
            texts = self.records.get(question.name.to_text(omit_final_dot=True).lower())
            if texts and question.rdtype == dns.rdatatype.TXT:
                response.answer.append(
                    dns.rrset.from_text(question.name, 60, "IN", "TXT", *[f'"{text}"' for text in texts])
                )
            else:
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(response.to_wire(), sender)
