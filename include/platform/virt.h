/* The x86-64 "virt" machine: guest memory map, I/O ports and GSIs.
 * Plain #defines only: included by C, assembly and iasl's preprocessor. */
#ifndef PLATFORM_VIRT_H
#define PLATFORM_VIRT_H

/* ---- Guest physical memory map ---- */
/* Low RAM runs from 0 up to the 32-bit MMIO hole; the rest lives above 4 GiB. */
#define VIRT_MMIO_HOLE_BASE 0xC0000000
#define VIRT_MMIO_HOLE_SIZE 0x40000000
#define VIRT_HIGH_RAM_BASE 0x100000000

/* Fixed low-memory areas the VMM fills before the first instruction. */
#define VIRT_PVH_INFO_ADDR 0x00006000	 /* hvm_start_info + memmap + modules */
#define VIRT_BOOT_PARAMS_ADDR 0x00007000 /* Linux zero page */
#define VIRT_PML4_ADDR 0x00009000	 /* identity page tables: PML4, PDPT, 4 PDs */
#define VIRT_BOOT_GDT_ADDR 0x00005000
#define VIRT_CMDLINE_ADDR 0x00020000
#define VIRT_CMDLINE_MAX 0x00001000
#define VIRT_BIOS_AREA_BASE 0x000A0000 /* reserved in the memory map */
#define VIRT_ACPI_BASE 0x000E0000      /* RSDP and all ACPI tables */
#define VIRT_ACPI_SIZE 0x00020000
#define VIRT_RESET_STUB_ADDR 0x000FFFE0 /* last 32 bytes: real-mode reset vector stub */
#define VIRT_KERNEL_ADDR 0x01000000	/* bzImage protected-mode part */

/* PCI: ECAM for bus 0 and the two windows BARs live in. wisp places every BAR in
 * the 32-bit window; the guest may move 64-bit BARs into the 64-bit one. Guest RAM
 * must end below the 64-bit window (-m is limited accordingly). */
#define VIRT_PCI_MMIO32_BASE 0xC0000000
#define VIRT_PCI_MMIO32_SIZE 0x20000000
#define VIRT_PCI_ECAM_BASE 0xE0000000
#define VIRT_PCI_ECAM_SIZE 0x00100000 /* bus 0 only: 32 devices x 8 functions x 4 KiB */
#define VIRT_PCI_BUS_MAX 0
#define VIRT_PCI_MMIO64_BASE 0x4000000000
#define VIRT_PCI_MMIO64_SIZE 0x4000000000
#define VIRT_PCI_HOST_VENDOR 0x1B36 /* the generic PCIe host bridge ID */
#define VIRT_PCI_HOST_DEVICE 0x0008

/* MMIO blocks inside the hole. */
#define VIRT_GED_BASE 0xFEA00000 /* GED event selector (32-bit, read) */
#define VIRT_GED_SIZE 0x4
#define VIRT_GED_REGS_BASE 0xFEA00200 /* sleep control/status, reset */
#define VIRT_GED_REGS_SIZE 0x3
#define VIRT_IOAPIC_BASE 0xFEC00000
#define VIRT_KVM_IDMAP_ADDR 0xFEFFC000 /* KVM-private (VMX real-mode support), 1 page */
#define VIRT_KVM_TSS_ADDR 0xFEFFD000   /* KVM-private, 3 pages */
#define VIRT_LAPIC_BASE 0xFEE00000

/* GED register block (QEMU's layout). */
#define GED_REG_SLEEP_CTL 0x00
#define GED_REG_SLEEP_STS 0x01
#define GED_REG_RESET 0x02
#define GED_RESET_VALUE 0x42
#define GED_SLP_TYP_SHIFT 2
#define GED_SLP_TYP_MASK 0x1C
#define GED_SLP_EN 0x20
#define GED_SLP_TYP_S5 0x05
/* GED event selector bits (QEMU's assignments). */
#define GED_EVT_MEM_HOTPLUG 0x1
#define GED_EVT_PWR_DOWN 0x2
#define GED_EVT_NVDIMM_HOTPLUG 0x4
#define GED_EVT_CPU_HOTPLUG 0x8

/* ---- I/O ports ---- */
#define VIRT_PORT_POST 0x80	  /* progress codes, write-only */
#define VIRT_PORT_DEBUG_EXIT 0xF4 /* isa-debug-exit, QEMU semantics */
#define VIRT_PORT_COM1 0x3F8
#define VIRT_PORT_COM1_SIZE 8

/* ---- Interrupts (IOAPIC GSIs) ---- */
#define VIRT_GSI_COM1 4
#define VIRT_GSI_GED 22
#define VIRT_GSI_PCI_INTA 16 /* INTA..INTD of slot s on pin p: 16 + (s + p) % 4 */
#define VIRT_IOAPIC_PINS 24
/* GSIs from here up are MSI routes (KVM GSI routing), never IOAPIC pins. */
#define VIRT_GSI_MSI_BASE 24

#endif
