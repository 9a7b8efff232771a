"""The interception CA and a leaf it minted, read by pyca/cryptography (a strict DER parser).

Usage: ca_check.py CA_PEM CA_KEY LEAF_PEM HOST

Loads both certificates and reads every extension (cryptography refuses DER with an explicit
DEFAULT, such as BasicConstraints `cA FALSE`), checks each extension's value, verifies the leaf
for HOST with cryptography's X.509 path validation trusting only the CA, then signs leaves for
names outside the CA's NameConstraints with the CA key and checks that the same validation
rejects them. Prints one JSON object; exits non-zero on the first failed check.
"""

import datetime
import ipaddress
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ExtensionOID, general_name
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError


def load(path):
    with open(path, "rb") as f:
        return f.read()


def check(cond, what):
    if not cond:
        print(json.dumps({"ok": False, "failed": what}))
        sys.exit(1)


def verify(ca, leaf, host):
    """None when a client trusting only `ca` accepts `leaf` for `host`, else the reason."""
    name = host
    try:
        name = general_name.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        name = general_name.DNSName(host)
    verifier = (
        PolicyBuilder()
        .store(Store([ca]))
        .time(datetime.datetime.now(datetime.timezone.utc))
        .build_server_verifier(name)
    )
    try:
        verifier.verify(leaf, [])
        return None
    except VerificationError as e:
        return str(e)


def sign_leaf(ca, ca_key, host):
    """A leaf for `host` signed with the CA's own key, as a thief of that key would make it."""
    key = ec.generate_private_key(ec.SECP256R1())
    try:
        san = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        san = x509.DNSName(host)
    now = datetime.datetime.now(datetime.timezone.utc)
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, host)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=2))
        .add_extension(x509.SubjectAlternativeName([san]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )


def main():
    ca_pem, ca_key_pem, leaf_pem, host = sys.argv[1:5]
    ca = x509.load_pem_x509_certificate(load(ca_pem))
    leaf = x509.load_pem_x509_certificate(load(leaf_pem))
    ca_key = serialization.load_pem_private_key(load(ca_key_pem), password=None)

    # Every extension of both, parsed (this is where non-DER fails).
    ca_ext = {e.oid: e for e in ca.extensions}
    leaf_ext = {e.oid: e for e in leaf.extensions}

    bc = ca_ext[ExtensionOID.BASIC_CONSTRAINTS]
    check(bc.critical and bc.value.ca and bc.value.path_length == 0, "CA basicConstraints")
    ku = ca_ext[ExtensionOID.KEY_USAGE].value
    check(ku.key_cert_sign and ku.crl_sign, "CA keyUsage")
    check(ExtensionOID.SUBJECT_KEY_IDENTIFIER in ca_ext, "CA subjectKeyIdentifier")
    nc = ca_ext[ExtensionOID.NAME_CONSTRAINTS]
    check(nc.critical, "NameConstraints critical")
    permitted = {n.value for n in nc.value.permitted_subtrees or []}
    excluded = {str(n.value) for n in nc.value.excluded_subtrees or []}
    for domain in ["api.openai.com", "api.anthropic.com", "openai.azure.com"]:
        check(domain in permitted, f"{domain} permitted")
    for broad in ["googleapis.com", "amazonaws.com", "azure.com", "openai.com"]:
        check(broad not in permitted, f"{broad} not permitted")
    check(excluded == {"0.0.0.0/0", "::/0"}, f"every IP excluded: {excluded}")

    check(ExtensionOID.BASIC_CONSTRAINTS not in leaf_ext, "leaf has no basicConstraints")
    san = leaf_ext[ExtensionOID.SUBJECT_ALTERNATIVE_NAME].value
    check(san.get_values_for_type(x509.DNSName) == [host], "leaf SAN")
    lku = leaf_ext[ExtensionOID.KEY_USAGE].value
    check(lku.digital_signature and not lku.key_cert_sign, "leaf keyUsage")
    eku = leaf_ext[ExtensionOID.EXTENDED_KEY_USAGE].value
    check(list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH], "leaf EKU")
    aki = leaf_ext[ExtensionOID.AUTHORITY_KEY_IDENTIFIER].value
    ski = ca_ext[ExtensionOID.SUBJECT_KEY_IDENTIFIER].value
    check(aki.key_identifier == ski.digest, "leaf AKI is the CA's SKI")
    check(leaf.issuer == ca.subject, "issuer")

    check(verify(ca, leaf, host) is None, f"minted leaf verifies: {verify(ca, leaf, host)}")
    inside = sign_leaf(ca, ca_key, "eu.api.openai.com")
    check(verify(ca, inside, "eu.api.openai.com") is None, "a leaf inside the scope verifies")
    rejected = {}
    for outside in ["www.example.com", "accounts.google.com", "api.openai.com.evil.example",
                    "203.0.113.7"]:
        why = verify(ca, sign_leaf(ca, ca_key, outside), outside)
        check(why is not None, f"a leaf for {outside} is rejected")
        rejected[outside] = why
    print(json.dumps({"ok": True, "permitted": len(permitted), "rejected": rejected}))


if __name__ == "__main__":
    main()
