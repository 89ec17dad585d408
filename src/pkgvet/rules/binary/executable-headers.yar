// Executable file headers. These are facts, not judgements: the analyzer grades them by
// where they sit (a .so in a platform wheel is normal; an ELF in a pure wheel is not).
// They only apply at offset 0 of a member.

rule windows_pe
{
    meta:
        id = "PV670"
        description = "Windows executable (PE)"
        severity = "medium"
        confidence = "high"
        category = "binary"
    condition:
        filesize > 0x40 and uint16(0) == 0x5A4D and uint32(0x3C) < filesize - 4
        and uint32(uint32(0x3C)) == 0x00004550
}

rule elf_executable
{
    meta:
        id = "PV671"
        description = "Linux/Unix executable (ELF)"
        severity = "medium"
        confidence = "high"
        category = "binary"
    condition:
        filesize > 16 and uint32(0) == 0x464C457F
}

rule macho_executable
{
    meta:
        id = "PV672"
        description = "macOS executable (Mach-O)"
        severity = "medium"
        confidence = "high"
        category = "binary"
    condition:
        filesize > 16 and (
            uint32(0) == 0xFEEDFACE or uint32(0) == 0xFEEDFACF
            or uint32(0) == 0xCEFAEDFE or uint32(0) == 0xCFFAEDFE
            or (uint32be(0) == 0xCAFEBABE and uint32be(4) > 0 and uint32be(4) < 8)
        )
}
