// Ways to run again after a reboot without the user asking.

rule windows_run_key_write
{
    meta:
        id = "PV640"
        description = "Writes a Windows Run registry key (starts a program at every logon)"
        severity = "high"
        confidence = "medium"
        category = "persistence"
    strings:
        $run = /Software\\{1,2}Microsoft\\{1,2}Windows\\{1,2}CurrentVersion\\{1,2}Run(Once)?\b/ nocase
        $set = "SetValueEx"
        $reg_add = /reg(\.exe)?\s+add\s/ nocase
    condition:
        $run and ($set or $reg_add)
}

rule windows_startup_folder
{
    meta:
        id = "PV641"
        description = "Path of the Windows Startup folder (programs placed there run at logon)"
        severity = "medium"
        confidence = "medium"
        category = "persistence"
    strings:
        $startup = /Start Menu\\{1,2}Programs\\{1,2}Startup/ nocase
        $startup_fwd = "Start Menu/Programs/Startup" nocase
        $shell_startup = "shell:startup" nocase
    condition:
        any of them
}

rule cron_reboot_entry
{
    meta:
        id = "PV642"
        description = "Installs a crontab @reboot entry"
        severity = "medium"
        confidence = "medium"
        category = "persistence"
    strings:
        $reboot = /@reboot\s+[^\n]{1,200}\|\s*crontab\s+-/
        $pipe = /crontab\s+-l[^\n]{0,120}@reboot/
    condition:
        any of them
}
