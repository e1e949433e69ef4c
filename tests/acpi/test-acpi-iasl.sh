#!/bin/bash
# The ACPI tables disassembled by ACPICA's iasl (Debian acpica-tools), an
# independent reader of the AML and table formats.
source tests/lib.sh
if ! command -v iasl > /dev/null; then
    skip iasl "iasl not installed (Debian package acpica-tools)"
    exit 0
fi
KESTREL_ACPI_DUMP=$T_TMP "$BUILD/tests/unit/test-hw-acpi" dump_for_disassembler > /dev/null
(cd "$T_TMP" && iasl -d dsdt.dat facp.dat apic.dat > iasl.log 2>&1)
if grep -qiE 'error|warning' "$T_TMP/iasl.log" || [[ ! -s $T_TMP/dsdt.dsl ]]; then
    fail disassemble "$(grep -iE 'error|warning' "$T_TMP/iasl.log" | head -3 | tr '\n' '|')"
else
    pass disassemble
fi
grep -q 'EisaId ("PNP0A03")' "$T_TMP/dsdt.dsl" && pass pci_root || fail pci_root "no PNP0A03 device"
# 31 slots x 4 pins, pin n of slot s on GSI 16 + ((s + n) & 3)
n=$(grep -cE '^ *0x00[0-9A-F]{2}FFFF, *$' "$T_TMP/dsdt.dsl")
[[ $n == 124 ]] && pass prt_entries || fail prt_entries "$n entries"
grep -A5 '0x0003FFFF' "$T_TMP/dsdt.dsl" | grep -q '0x13' && pass prt_swizzle || fail prt_swizzle "slot 3 pin A should be GSI 19"
grep -q 'Name (_S5, Package' "$T_TMP/dsdt.dsl" && pass s5 || fail s5 "no \\_S5"
grep -q 'PM1A Event Block Address : 00000600' "$T_TMP/facp.dsl" && pass fadt_pm1a ||
    fail fadt_pm1a "$(grep -i 'PM1A Event' "$T_TMP/facp.dsl")"
grep -q 'Subtable Type : 01 \[I/O APIC\]' "$T_TMP/apic.dsl" && pass madt_ioapic || fail madt_ioapic
grep -A3 'Interrupt Source Override' "$T_TMP/apic.dsl" | grep -q 'Source : 00' &&
    grep -q 'Interrupt : 00000002' "$T_TMP/apic.dsl" &&
    pass madt_irq0_override || fail madt_irq0_override
