"""Bearer tokens of systems, validated against a real issuer's JWKS: signature, issuer, audience, expiry, scopes."""

import time

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from serving.tokens import TokenRefused, TokenSettings, TokenValidator, bearer

AUDIENCE = "toshav-api"


def validator_for(provider, **kwargs) -> TokenValidator:
    return TokenValidator(TokenSettings(issuer=provider.issuer, audience=AUDIENCE), **kwargs)


def refusal(validator, token, **kwargs) -> str:
    with pytest.raises(TokenRefused) as e:
        validator.validate(token, **kwargs)
    assert token not in str(e.value)
    return e.value.reason


def test_a_token_of_the_issuer_for_this_audience_is_accepted(provider):
    token = provider.issue_id_token("dana", client_id=AUDIENCE)
    principal = validator_for(provider).validate(bearer(f"Bearer {token}"))
    assert principal.subject == "dana"


def test_wrong_audience_expired_and_forged_tokens_are_refused(provider):
    validator = validator_for(provider)
    other_audience = provider.issue_id_token("dana", client_id="another-service")
    assert refusal(validator, other_audience) == "audience"

    token = provider.issue_id_token("dana", client_id=AUDIENCE)
    two_hours_later = validator_for(provider, clock=lambda: time.time() + 2 * 3600)   # the provider's tokens live 1 h
    assert refusal(two_hours_later, token) == "expired"

    genuine = jwt.decode(token, validator.keys())
    forger = RSAKey.generate_key(2048, private=True)
    same_header = {k: v for k, v in genuine.header.items() if k in ("alg", "kid", "typ")}
    forged = jwt.encode(same_header, dict(genuine.claims), forger)
    assert refusal(validator, forged) == "signature"

    unknown_kid = jwt.encode({"alg": "RS256", "kid": "not-published"}, dict(genuine.claims), forger)
    assert refusal(validator, unknown_kid) == "unknown_key"


def test_another_issuer_is_refused(provider):
    token = provider.issue_id_token("dana", client_id=AUDIENCE)
    keys = validator_for(provider).keys()
    elsewhere = TokenValidator(TokenSettings(issuer="https://login.example", audience=AUDIENCE), keys=keys)
    assert refusal(elsewhere, token) == "issuer"


def _signed(key, **claims):
    now = int(time.time())
    return jwt.encode({"alg": "RS256", "kid": key.kid},
                      {"iss": "https://login.example", "aud": AUDIENCE, "exp": now + 300, "iat": now, **claims}, key)


def test_scopes_are_required_as_asked():
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    validator = TokenValidator(TokenSettings(issuer="https://login.example", audience=AUDIENCE),
                               keys=KeySet([key]))
    with_scope = _signed(key, sub="ops", azp="ops-client", scope="residents:read counts:read")
    entra_style = _signed(key, sub="ops", appid="ops-client", scp=["residents:read"])
    principal = validator.validate(with_scope, scopes=["residents:read"])
    assert principal.client_id == "ops-client" and principal.scopes == {"residents:read", "counts:read"}
    assert validator.validate(entra_style, scopes=["residents:read"]).client_id == "ops-client"
    assert refusal(validator, entra_style, scopes=["counts:read"]) == "scope"
    not_yet = _signed(key, sub="ops", nbf=int(time.time()) + 3600)
    assert refusal(validator, not_yet) == "not_yet_valid"
    unsigned = jwt.encode({"alg": "HS256"}, {"iss": "https://login.example", "aud": AUDIENCE,
                                             "exp": int(time.time()) + 60}, OctKey.import_key("a-guessable-secret-of-32-bytes!!"),
                          algorithms=["HS256"])
    assert refusal(validator, unsigned) == "malformed"


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer", "Bearer a b"])
def test_the_authorization_header_must_be_a_bearer_token(header):
    with pytest.raises(TokenRefused) as e:
        bearer(header)
    assert e.value.reason in ("missing", "malformed")
