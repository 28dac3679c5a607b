"""Internal: import from hardening.<public module> (``hardening.middleware``,
``hardening.authentication``, ``hardening.urls``).

Bearer tokens: the project's own (issued with simplejwt), and those of other issuers
(Clerk, any OIDC provider).  One request's token goes ``auth`` (the one authentication path:
middleware and DRF classes) -> ``verify`` (routing by ``iss``, the issuer's rules, the
verified-token memo) -> ``jws`` (structure, signature, registered claims), ``issuers`` (the
issuer list and presets) and ``keys`` (the key stores; ``fetch`` and ``transport`` bring a
JWKS document over HTTP).  ``tokens`` issues and rotates the own tokens (families, logout,
password change), ``ownkeys`` the keys that sign them (the setting's value parsed in
``signingkey``).  See docs/jwt.md.
"""
