# Contoso's values for the suites in suites/ (smtpdiag run -var-file
# smtpdiag.vars.hcl). No secrets here: the password comes from the CI
# secret SMTP_PASSWORD.

domain = "contoso.com"

# The mailbox the copiers sign in as (SMTP AUTH, smtp.office365.com:587).
username = "scanner@contoso.com"

# Who scans usually go to: one internal and one external address, so that
# both kinds of RCPT TO are proven.
recipients = ["helpdesk@contoso.com", "accounts@fabrikam.com"]

# The fax server on the 2nd floor uses Direct Send.
fax_sender = "fax@contoso.com"
fax_recipient = "reception@contoso.com"

# The office line's static public IP (ISP contract 2026): Exchange Online
# must see it, the SPF record must allow it, no blocklist may list it.
office_ip = "203.0.113.5"
