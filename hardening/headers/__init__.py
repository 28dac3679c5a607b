"""Security headers Django lacks: CSP (on Django 5.2), Permissions-Policy, CORP, COEP,
and ``Cache-Control: no-store`` for API and authentication responses."""
