/* DSDT of the x86-64 virt machine: hardware-reduced, no legacy chipset.
 * Per-VM facts are read by AML from fixed MMIO blocks (include/platform).
 * Compiled by iasl at build time; any warning or remark fails the build. */
#include "platform/virt.h"

DefinitionBlock ("", "DSDT", 2, "WISP  ", "WISPVIRT", 0x00000001)
{
    Scope (\_SB)
    {
        /* COM1: the 16550 console. No ISA bus here, so its interrupt is
         * named as an IOAPIC GSI (edge, active high, like an ISA IRQ). */
        Device (COM1)
        {
            Name (_HID, EisaId ("PNP0501"))
            Name (_UID, One)
            Name (_STA, 0x0F)
            Name (_CRS, ResourceTemplate ()
            {
                IO (Decode16, VIRT_PORT_COM1, VIRT_PORT_COM1, 0x01, VIRT_PORT_COM1_SIZE)
                Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, )
                {
                    VIRT_GSI_COM1
                }
            })
        }

        /* Power button (control-method kind: hardware-reduced ACPI has no
         * fixed one), notified through the GED. Present, not shown in UI. */
        Device (PWRB)
        {
            Name (_HID, EisaId ("PNP0C0C"))
            Name (_UID, Zero)
            Name (_STA, 0x0B)
        }

        /* Generic Event Device: one edge interrupt, and an event selector
         * that says why. The VMM clears the selector when it is read, so
         * _EVT reads it exactly once and acts on every bit it saw. */
        Device (GED0)
        {
            Name (_HID, "ACPI0013")
            Name (_UID, Zero)
            Name (_STA, 0x0F)
            Name (_CRS, ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, )
                {
                    VIRT_GSI_GED
                }
            })
            OperationRegion (EREG, SystemMemory, VIRT_GED_BASE, VIRT_GED_SIZE)
            Field (EREG, DWordAcc, NoLock, WriteAsZeros)
            {
                ESEL, 32
            }

            /* Arg0: the GSI that fired (always VIRT_GSI_GED). */
            Method (_EVT, 1, Serialized)
            {
                Local0 = ESEL
                If ((Local0 & GED_EVT_PWR_DOWN))
                {
                    Notify (PWRB, 0x80) /* Status Change: button pressed */
                }
            }
        }
    }

    /* S5 (soft off): OSPM writes (SLP_TYP << GED_SLP_TYP_SHIFT) | GED_SLP_EN
     * to the FADT's sleep control register (GED register block). */
    Name (\_S5, Package (0x04)
    {
        GED_SLP_TYP_S5, Zero, Zero, Zero
    })
}
