"""A service desk's knowledge base in miniature, for the relevance test: articles
as a real desk writes them, and questions as people type them."""

from __future__ import annotations

P, INTERNAL = "public", "internal"

# key: (title, symptoms, body, kind, audience)
ARTICLES: dict[str, tuple[str, str, str, str, str]] = {
    "vpn-hourly": (
        "VPN disconnects every hour",
        "The VPN connection drops about once an hour while working from home.",
        "Known idle timeout on the concentrator. Turn on Keep connection alive in "
        "the client settings and reconnect.",
        "known_error",
        P,
    ),
    "vpn-setup": (
        "Connect to the VPN from home",
        "You need file shares or internal sites from outside the office.",
        "Install the client from the software centre, sign in, approve the MFA "
        "prompt and choose the Office gateway.",
        "how_to",
        P,
    ),
    "vpn-cert": (
        "VPN says certificate expired",
        "The client refuses to connect with a certificate error.",
        "Bring the laptop to the office network once so the machine certificate "
        "renews, then connect again.",
        "how_to",
        P,
    ),
    "vpn-concentrator": (
        "Fail over the VPN concentrator",
        "All remote users lose their tunnels at once; concentrator CPU at 100%.",
        "Make the standby unit active, wait for tunnels to re-establish, then "
        "restart the primary. Never restart both.",
        "runbook",
        INTERNAL,
    ),
    "vpn-split": (
        "Slow internet while on VPN",
        "Web pages and video calls are sluggish only when the VPN is on.",
        "Split tunnelling sends only office traffic through the tunnel; check the "
        "profile is Office-Split, not Office-Full.",
        "how_to",
        P,
    ),
    "password-reset": (
        "Reset your password",
        "You forgot your password or it expired and you cannot sign in.",
        "Use Forgot password on the sign-in page and follow the link sent to your "
        "phone. Passwords need 14 characters.",
        "how_to",
        P,
    ),
    "account-locked": (
        "Account locked after failed sign-in attempts",
        "Sign-in says your account is locked.",
        "Five wrong passwords lock the account for 15 minutes. Wait, or call the "
        "service desk to unlock it sooner.",
        "how_to",
        P,
    ),
    "mfa-setup": (
        "Set up multi-factor authentication",
        "You are asked to register an authenticator app.",
        "Install the authenticator app, open Security info in My account, add a "
        "method and scan the QR code.",
        "how_to",
        P,
    ),
    "mfa-new-phone": (
        "Move MFA to a new phone",
        "You changed phones and the approval prompts no longer arrive.",
        "Add the new phone under Security info before wiping the old one, or ask "
        "the desk to reset your methods after checking your identity.",
        "how_to",
        P,
    ),
    "mfa-reset-procedure": (
        "Reset a user's MFA methods",
        "A caller lost the phone holding their authenticator.",
        "Verify identity with a video call and the manager's confirmation, then "
        "revoke sessions and clear the registered methods in the identity admin.",
        "runbook",
        INTERNAL,
    ),
    "outlook-crash": (
        "Outlook crashes on start",
        "Outlook closes as soon as it opens or hangs on loading profile.",
        "Start Outlook in safe mode with outlook.exe /safe and disable add-ins one "
        "by one; repair Office if it still crashes.",
        "how_to",
        P,
    ),
    "outlook-search": (
        "Outlook search finds nothing",
        "Searching your mailbox returns no results or old ones only.",
        "Rebuild the search index: Indexing Options, Advanced, Rebuild. It takes "
        "an hour for a large mailbox.",
        "how_to",
        P,
    ),
    "mailbox-full": (
        "Mailbox full, cannot send email",
        "You get a warning that your mailbox is over its quota.",
        "Empty Deleted Items, archive old mail to the online archive, and remove "
        "large attachments from Sent Items.",
        "how_to",
        P,
    ),
    "email-delay": (
        "Inbound email delayed",
        "Mail from outside arrives 10 to 30 minutes late.",
        "Check the gateway inbound queue; over 500 waiting means the spam scanner "
        "is behind. Restart the scanner service on each node in turn.",
        "runbook",
        INTERNAL,
    ),
    "shared-mailbox": (
        "Open a shared mailbox",
        "You were given access to a team mailbox but cannot see it.",
        "It appears in Outlook after a restart; otherwise add it under Account "
        "settings, More settings, Advanced.",
        "how_to",
        P,
    ),
    "calendar-sharing": (
        "Share your calendar",
        "Colleagues cannot see when you are free.",
        "In Outlook calendar choose Share, add the colleague and pick Can view "
        "when I'm busy or Can view all details.",
        "how_to",
        P,
    ),
    "phishing": (
        "Report a phishing email",
        "An email asks for your password, a payment or to open a file.",
        "Do not click. Use Report phishing in Outlook and delete it. If you clicked "
        "a link, change your password and report an incident.",
        "how_to",
        P,
    ),
    "malware-isolate": (
        "Isolate a laptop with suspected malware",
        "Endpoint protection raised a malware alert on a laptop.",
        "Isolate the device from the EDR console, collect the triage package, "
        "disable the user's sessions and open a security incident.",
        "runbook",
        INTERNAL,
    ),
    "wifi-join": (
        "Connect to the office Wi-Fi",
        "Your laptop cannot join the office wireless network.",
        "Choose the network Office, not Office-Guest, and sign in with your usual "
        "account. Forget the network and join again if it keeps asking.",
        "how_to",
        P,
    ),
    "wifi-guest": (
        "Guest wireless access for visitors",
        "A visitor needs internet access in the office.",
        "Visitors join Office-Guest and get a code by text message at reception; "
        "codes last one day.",
        "how_to",
        P,
    ),
    "wifi-ap-down": (
        "Wireless access point offline",
        "Monitoring shows an access point down; a floor reports no Wi-Fi.",
        "Check the switch port PoE status, bounce the port, and replace the access "
        "point from spares if it does not come back.",
        "runbook",
        INTERNAL,
    ),
    "printer-jam": (
        "Printer jams on double-sided jobs",
        "The printer on floor 3 jams when printing both sides.",
        "Print single-sided or use the floor 2 printer until the fuser is replaced. "
        "Clear tray 2 first, then the rear door.",
        "workaround",
        P,
    ),
    "printer-add": (
        "Add a network printer",
        "The printer you need is not in your list.",
        "Open Printers and scanners, Add device, and pick the printer by its floor "
        "name, for example PRN-F2-EAST.",
        "how_to",
        P,
    ),
    "printer-queue": (
        "Clear a stuck print queue",
        "Jobs stay in the queue and nothing prints for anyone.",
        "On the print server restart the spooler service and delete the stuck job; "
        "check the driver if one user's jobs always stick.",
        "runbook",
        INTERNAL,
    ),
    "scanner-email": (
        "Scan to email does not arrive",
        "You scan a document on the copier but the email never comes.",
        "Scans over 20 MB are dropped; choose lower resolution or scan to your "
        "network folder instead.",
        "how_to",
        P,
    ),
    "laptop-slow": (
        "Laptop is very slow",
        "Your computer takes minutes to start and programs freeze.",
        "Restart it (not sleep) at least weekly, check free disk space is above "
        "10 GB, and let pending updates finish overnight.",
        "how_to",
        P,
    ),
    "laptop-battery": (
        "Laptop battery drains fast",
        "The battery lasts less than two hours.",
        "Check battery health in the vendor tool; under 60% we replace it. Lower "
        "screen brightness and close video calls you are not in.",
        "how_to",
        P,
    ),
    "docking-monitor": (
        "External monitor not detected on the dock",
        "Screens stay black when you connect the docking station.",
        "Unplug the dock's power for ten seconds, update the dock firmware, and "
        "use the display port nearest the power socket.",
        "how_to",
        P,
    ),
    "bitlocker-recovery": (
        "BitLocker recovery key requested",
        "At start-up the laptop asks for a 48-digit recovery key.",
        "Find the key in My account under Devices, or call the desk with your "
        "laptop's asset tag to read it out.",
        "how_to",
        P,
    ),
    "teams-audio": (
        "No sound in Teams calls",
        "Others cannot hear you, or you cannot hear them, in Teams meetings.",
        "Pick the right device under Settings, Devices; unplug and replug the "
        "headset; close other apps using the microphone.",
        "how_to",
        P,
    ),
    "teams-camera": (
        "Camera not working in video calls",
        "Your webcam shows black or is not found in meetings.",
        "Check the privacy shutter, allow camera access in Windows privacy "
        "settings, and pick the camera in the meeting's device settings.",
        "how_to",
        P,
    ),
    "onedrive-sync": (
        "OneDrive not syncing files",
        "Files show a red cross or stay pending upload.",
        "Pause and resume sync, check the file name has no forbidden characters, "
        "and that the path is shorter than 400 characters.",
        "how_to",
        P,
    ),
    "file-share": (
        "Cannot open the shared drive",
        "The S: drive is missing or says access denied.",
        "Connect the VPN if you are remote, then map the drive again from the "
        "software centre. Access is granted by your team lead.",
        "how_to",
        P,
    ),
    "restore-file": (
        "Restore a deleted file",
        "You deleted or overwrote a file on the shared drive.",
        "Right-click the folder, Previous versions, pick a snapshot from before "
        "the change and restore. Snapshots are kept 30 days.",
        "how_to",
        P,
    ),
    "payslip-missing": (
        "Payslip missing in the payroll portal",
        "This month's payslip is not shown.",
        "Payslips appear on the 25th after 18:00. If it is later, check your bank "
        "details are complete and report it.",
        "how_to",
        P,
    ),
    "payroll-run": (
        "Payroll run fails at the export step",
        "The monthly salary run stops with an export error.",
        "Check the bank file format version, rerun the export job from the "
        "payroll admin, and tell finance before 14:00 on cut-off day.",
        "runbook",
        INTERNAL,
    ),
    "expenses": (
        "Submit travel expenses",
        "You need to claim a train ticket or a hotel.",
        "Photograph the receipts in the expenses app, choose the cost centre and "
        "submit; your manager approves within a week.",
        "how_to",
        P,
    ),
    "checkout-502": (
        "Checkout returns 502 bad gateway",
        "Customers see 502 errors when paying on the customer portal.",
        "Find the unhealthy backend in the checkout pool on the load balancer, "
        "drain it and restart the application service.",
        "runbook",
        INTERNAL,
    ),
    "portal-login": (
        "Customers cannot log in to the customer portal",
        "Customers report a login loop or invalid session errors.",
        "Check the session store cluster health and the identity provider's "
        "signing certificate; clear the CDN cache for the login page.",
        "runbook",
        INTERNAL,
    ),
    "db-failover": (
        "Database failover",
        "The primary database is unreachable and applications time out.",
        "Promote the replica with the failover script, repoint the connection "
        "pooler, and rebuild the old primary as a replica.",
        "runbook",
        INTERNAL,
    ),
    "disk-full": (
        "Server disk full alert",
        "Monitoring alerts that a filesystem is above 90 percent.",
        "Find large files with du, rotate and compress logs, extend the volume if "
        "growth is legitimate.",
        "runbook",
        INTERNAL,
    ),
    "cert-expiry": (
        "TLS certificate about to expire",
        "Monitoring warns that a website certificate expires in 14 days.",
        "Renew through the certificate manager, deploy to the load balancers and "
        "check the chain with the SSL checker.",
        "runbook",
        INTERNAL,
    ),
    "dns-resolution": (
        "Internal names do not resolve",
        "Intranet sites fail with server not found while the internet works.",
        "Check the laptop uses the office DNS servers; flush the cache with "
        "ipconfig /flushdns and reconnect.",
        "how_to",
        P,
    ),
    "software-install": (
        "Install software from the software centre",
        "You need an application that is not on your laptop.",
        "Open the software centre, search the application and press Install; "
        "licensed software needs your manager's approval.",
        "how_to",
        P,
    ),
    "admin-rights": (
        "Request local administrator rights",
        "An installer asks for an administrator password.",
        "Request temporary admin rights in the portal with the reason; they last "
        "four hours and are logged.",
        "how_to",
        P,
    ),
    "new-starter": (
        "Set up accounts for a new starter",
        "A new employee starts next week and needs access.",
        "The hiring manager files the new starter form five days ahead; accounts, "
        "laptop and badge are ready on the first morning.",
        "how_to",
        P,
    ),
    "leaver": (
        "Disable a leaver's accounts",
        "HR reports an employee's last day.",
        "Disable the directory account at 17:00 on the last day, convert the "
        "mailbox to shared, recover the laptop and badge.",
        "runbook",
        INTERNAL,
    ),
    "badge": (
        "Door badge does not open the doors",
        "Your building badge is refused at the entrance.",
        "Badges stop after 30 days unused; ask reception to reactivate it with "
        "your ID. Lost badges are blocked at once.",
        "how_to",
        P,
    ),
    "mobile-email": (
        "Set up work email on your phone",
        "You want company mail and calendar on a smartphone.",
        "Install the Outlook app, sign in with your work account and accept the "
        "device management profile.",
        "how_to",
        P,
    ),
    "phone-lost": (
        "Lost or stolen phone or laptop",
        "Your work phone or laptop is missing.",
        "Report it at once so we can wipe it remotely; change your password and "
        "tell your manager.",
        "how_to",
        P,
    ),
    "browser-cache": (
        "Website shows an old version or errors",
        "An internal website looks broken or does not show recent changes.",
        "Clear the browser cache for the site with Ctrl+Shift+Delete, or try a "
        "private window.",
        "how_to",
        P,
    ),
    "excel-crash": (
        "Excel freezes with large spreadsheets",
        "Excel stops responding when opening big workbooks.",
        "Turn off hardware graphics acceleration and automatic calculation while "
        "editing; use the 64-bit Office build for files over 200 MB.",
        "how_to",
        P,
    ),
    "pdf-sign": (
        "Sign a PDF document electronically",
        "You need to sign a contract sent as a PDF.",
        "Open it in the PDF reader, choose Fill and Sign, draw or type your "
        "signature and save a copy.",
        "how_to",
        P,
    ),
    "meeting-room": (
        "Meeting room screen does not show your laptop",
        "The room display stays on the welcome screen.",
        "Use the HDMI cable on the table or press the share button on the room "
        "panel and enter the code shown.",
        "how_to",
        P,
    ),
    "alert-cpu": (
        "High CPU alert on application servers",
        "Monitoring alerts that CPU is above 95 percent for 10 minutes.",
        "Check for a runaway process or a traffic spike; scale out the pool and "
        "capture a profile before restarting.",
        "runbook",
        INTERNAL,
    ),
    "backup-failed": (
        "Nightly backup job failed",
        "The backup report shows a failed job.",
        "Rerun the job for the failed client, check the storage target's free "
        "space and the agent version.",
        "runbook",
        INTERNAL,
    ),
    "sso-app": (
        "Single sign-on fails for one application",
        "An application says your account is not assigned.",
        "Ask for the application in the portal; access is granted by the "
        "application owner within a day.",
        "how_to",
        P,
    ),
    "keyboard": (
        "Keyboard or mouse not working",
        "Keys do nothing or the mouse pointer does not move.",
        "Replace the batteries, re-pair the Bluetooth device, or try another USB "
        "port. The desk swaps broken ones.",
        "how_to",
        P,
    ),
    "screen-flicker": (
        "Screen flickers",
        "The laptop display flickers or shows lines.",
        "Update the graphics driver from the software centre and change the "
        "refresh rate to 60 Hz; bring it in if lines stay.",
        "how_to",
        P,
    ),
    "timesheet": (
        "Timesheet portal will not save",
        "Saving your hours shows an error.",
        "Save each week separately, and check no day has more than 24 hours; a "
        "period closes on the 3rd of the month.",
        "how_to",
        P,
    ),
    "vpn-mac": (
        "Install the VPN client on a Mac",
        "You use a Mac and need remote access to the office network.",
        "Download the macOS client from the software centre, allow the system "
        "extension in Security settings, and restart.",
        "how_to",
        P,
    ),
}

# (query, the key that must be in the top 3, reader); reader "agent" reads
# everything published, "requester" public articles only. A key of None: the
# requester must see no internal article among the results.
QUERIES: list[tuple[str, str | None, str]] = [
    ("vpn disconnects", "vpn-hourly", "requester"),
    ("my vpn keeps dropping every hour", "vpn-hourly", "requester"),
    ("vnp", "vpn-hourly", "agent"),
    ("how do I connect to the vpn from home", "vpn-setup", "requester"),
    ("vpn certificate expired", "vpn-cert", "requester"),
    ("outlok crashes", "outlook-crash", "requester"),
    ("outlook won't open", "outlook-crash", "requester"),
    ("forgot my password", "password-reset", "requester"),
    ("account locked", "account-locked", "requester"),
    ("pasword reset", "password-reset", "requester"),
    ("new phone authenticator", "mfa-new-phone", "requester"),
    ("printer jams double sided", "printer-jam", "requester"),
    ("printr jam", "printer-jam", "requester"),
    ("wifi not connecting", "wifi-join", "requester"),
    ("wireless for a visitor", "wifi-guest", "requester"),
    ("my laptop is very slow", "laptop-slow", "requester"),
    ("mailbox full", "mailbox-full", "requester"),
    ("payslip missing", "payslip-missing", "requester"),
    ("phishing email", "phishing", "requester"),
    ("no sound in teams call", "teams-audio", "requester"),
    ("onedrive not syncing", "onedrive-sync", "requester"),
    ("restore deleted file", "restore-file", "requester"),
    ("bitlocker recovery key", "bitlocker-recovery", "requester"),
    ("monitor not detected dock", "docking-monitor", "requester"),
    ('"safe mode" outlook', "outlook-crash", "requester"),
    ("vpn from home -hour", "vpn-setup", "requester"),
    ("checkout 502", "checkout-502", "agent"),
    ("database failover", "db-failover", "agent"),
    ("disk full alert", "disk-full", "agent"),
    ("concentrator cpu", "vpn-concentrator", "agent"),
    ("email arriving late", "email-delay", "agent"),
    ("reset mfa for a user who lost their phone", "mfa-reset-procedure", "agent"),
    ("certifcate expiry", "cert-expiry", "agent"),
    ("print queue stuck", "printer-queue", "agent"),
    ("salary run export error", "payroll-run", "agent"),
    ("checkout 502", None, "requester"),
    ("database failover", None, "requester"),
    ("concentrator restart", None, "requester"),
    ("malware laptop isolate", None, "requester"),
]
