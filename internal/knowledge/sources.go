package knowledge

// Sources the diagnoses written in Go cite (the entries of the knowledge
// base carry their own, in kb/).
const (
	// deviceSource compares SMTP AUTH submission, Direct Send and relay
	// for multifunction devices and applications.
	deviceSource = "https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365"
	// legacyTLSSource is the link Exchange Online puts in 4.7.66.
	legacyTLSSource = "https://aka.ms/smtp_auth_tls"
)
