/* DSDT of the x86-64 virt machine: hardware-reduced, no legacy chipset.
 * Per-VM facts are read by AML from fixed MMIO blocks (include/platform).
 * Compiled by iasl at build time; any warning or remark fails the build. */
#include "platform/virt.h"

/* iasl folds no arithmetic inside resource descriptors, so the PCI bus count
 * and window ends are spelled out here, and checked against virt.h. */
#define PCI_BUS_COUNT 0x1
#define PCI_MMIO32_MAX 0xDFFFFFFF
#define PCI_MMIO64_MAX 0x7FFFFFFFFF
#if PCI_BUS_COUNT != VIRT_PCI_BUS_MAX + 1
#error "dsdt.asl: PCI_BUS_COUNT must be VIRT_PCI_BUS_MAX + 1"
#endif
#if PCI_MMIO32_MAX != VIRT_PCI_MMIO32_BASE + VIRT_PCI_MMIO32_SIZE - 1
#error "dsdt.asl: PCI_MMIO32_MAX must be the last byte of the 32-bit window"
#endif
#if PCI_MMIO64_MAX != VIRT_PCI_MMIO64_BASE + VIRT_PCI_MMIO64_SIZE - 1
#error "dsdt.asl: PCI_MMIO64_MAX must be the last byte of the 64-bit window"
#endif

/* _OSC, Capabilities DWORD 1 (ACPI 6.3, 6.2.11). */
#define OSC_QUERY 0x01          /* in: query only, commit nothing */
#define OSC_FAILURE 0x02        /* out: the request could not be processed */
#define OSC_BAD_UUID 0x04       /* out: unrecognized UUID */
#define OSC_BAD_REVISION 0x08   /* out: unrecognized revision */
#define OSC_MASKED 0x10         /* out: firmware cleared requested bits */
/* PCI host bridge _OSC, DWORD 3 (PCI Firmware 3.3, 4.5.1): what wisp grants.
 * Bit 0 native PCIe hotplug, 2 PME, 3 AER, 4 PCIe capability structure, 5 LTR.
 * Refused: 1 SHPC hotplug (no SHPC), 7 DPC (no downstream ports), and every
 * bit wisp does not know. See docs/acpi.md. */
#define OSC_PCI_GRANTED 0x3D
/* PCI Firmware _DSM functions (PCI Firmware 3.3, 4.6). */
#define DSM_PCI_FUNCTIONS 0x21  /* bitmap: 0 (this query) and 5 */
#define DSM_PCI_BOOT_CONFIG 5   /* "ignore PCI boot configuration" */

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

        /* PCI Express host bridge: segment 0, buses 0..VIRT_PCI_BUS_MAX, whose
         * configuration space is the ECAM the MCFG names (built in C). wisp
         * places every BAR at start-up; the OS is asked to keep them (_DSM). */
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A08"))
            Name (_CID, EisaId ("PNP0A03"))
            Name (_SEG, Zero)
            Name (_BBN, Zero)
            Name (_UID, Zero)
            /* The bus range and the two memory windows; no I/O window (no
             * device has an I/O BAR, and there is no port 0xCF8). */
            Name (_CRS, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000, 0x0000, VIRT_PCI_BUS_MAX, 0x0000, PCI_BUS_COUNT)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable,
                    ReadWrite, 0x00000000, VIRT_PCI_MMIO32_BASE, PCI_MMIO32_MAX, 0x00000000,
                    VIRT_PCI_MMIO32_SIZE)
                QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable,
                    ReadWrite, 0x0000000000000000, VIRT_PCI_MMIO64_BASE, PCI_MMIO64_MAX,
                    0x0000000000000000, VIRT_PCI_MMIO64_SIZE)
            })

#include "prt.asl"

            /* Arg0 UUID, Arg1 revision, Arg2 number of DWORDs in Arg3, Arg3
             * the capabilities buffer: DWORD 1 query flag in, errors out;
             * DWORD 2 what the OS supports; DWORD 3 the controls the OS asks
             * for in, those granted out. The grant is the same whether the OS
             * queries or commits, so there is no state to keep. */
            Method (_OSC, 4, Serialized)
            {
                If ((SizeOf (Arg3) < 4))
                {
                    Return (Arg3) /* no room even for an error */
                }

                CreateDWordField (Arg3, Zero, CDW1)
                CDW1 &= OSC_QUERY /* the error bits are ours to set */
                If ((Arg0 != ToUUID ("33db4d5b-1ff7-401c-9657-7441c03dd766")))
                {
                    CDW1 |= OSC_BAD_UUID
                    Return (Arg3)
                }

                If ((Arg1 != One))
                {
                    CDW1 |= OSC_BAD_REVISION
                    Return (Arg3)
                }

                If (((Arg2 < 3) || (SizeOf (Arg3) < 12)))
                {
                    CDW1 |= OSC_FAILURE
                    Return (Arg3)
                }

                CreateDWordField (Arg3, 8, CDW3)
                Local0 = (CDW3 & OSC_PCI_GRANTED)
                If ((Local0 != CDW3))
                {
                    CDW1 |= OSC_MASKED
                    CDW3 = Local0
                }

                Return (Arg3)
            }

            /* PCI Firmware _DSM, revision 1 and up: function 0 lists the
             * functions, function 5 returns 0: the OS must keep the BARs
             * wisp assigned. Anything else: an empty function list. */
            Method (_DSM, 4, NotSerialized)
            {
                If (((Arg0 == ToUUID ("e5c937d0-3553-4d7a-9117-ea4d19c3434d")) && (Arg1 >= One)))
                {
                    If ((Arg2 == Zero))
                    {
                        Return (Buffer (One) { DSM_PCI_FUNCTIONS })
                    }

                    If ((Arg2 == DSM_PCI_BOOT_CONFIG))
                    {
                        Return (Zero)
                    }
                }

                Return (Buffer (One) { Zero })
            }
        }

        /* Motherboard resources: the ECAM, which the OS must find reserved
         * here before it uses the MCFG (PCI Firmware 3.3, 4.1.2). */
        Device (RES0)
        {
            Name (_HID, EisaId ("PNP0C02"))
            Name (_UID, Zero)
            Name (_CRS, ResourceTemplate ()
            {
                Memory32Fixed (ReadWrite, VIRT_PCI_ECAM_BASE, VIRT_PCI_ECAM_SIZE)
            })
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
