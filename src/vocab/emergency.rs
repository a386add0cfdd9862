//! systemd's emergency actions (systemd.unit(5) `JobTimeoutAction=`, after 252's
//! src/core/emergency-action.c): the names a unit file may give and what each asks of the
//! manager, in bosun's terms: nothing, an ordered shutdown (units stopped in order), or an
//! immediate one (no unit stopped; every process gets SIGTERM, then SIGKILL). A container
//! cannot reboot, power off, halt or kexec its host: each ends the container, as systemd does
//! as a container's PID 1. Names only; PID 1 acts on them.

/// One emergency action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmergencyAction {
    #[default]
    None,
    Reboot,
    RebootForce,
    RebootImmediate,
    Poweroff,
    PoweroffForce,
    PoweroffImmediate,
    Exit,
    ExitForce,
    Kexec,
    KexecForce,
    Halt,
    HaltForce,
    HaltImmediate,
}

/// How an action ends the manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Stop the units in order, then end everything (reboot, poweroff, halt, kexec, exit).
    Ordered,
    /// Stop no unit: every process gets SIGTERM, then SIGKILL (the `-force` and `-immediate`
    /// variants).
    Immediate,
}

const NAMES: [(&str, EmergencyAction); 14] = [
    ("none", EmergencyAction::None),
    ("reboot", EmergencyAction::Reboot),
    ("reboot-force", EmergencyAction::RebootForce),
    ("reboot-immediate", EmergencyAction::RebootImmediate),
    ("poweroff", EmergencyAction::Poweroff),
    ("poweroff-force", EmergencyAction::PoweroffForce),
    ("poweroff-immediate", EmergencyAction::PoweroffImmediate),
    ("exit", EmergencyAction::Exit),
    ("exit-force", EmergencyAction::ExitForce),
    ("kexec", EmergencyAction::Kexec),
    ("kexec-force", EmergencyAction::KexecForce),
    ("halt", EmergencyAction::Halt),
    ("halt-force", EmergencyAction::HaltForce),
    ("halt-immediate", EmergencyAction::HaltImmediate),
];

impl EmergencyAction {
    /// The action named `text` (systemd's exact names).
    pub fn parse(text: &str) -> Option<EmergencyAction> {
        NAMES.iter().find(|(n, _)| *n == text).map(|(_, a)| *a)
    }

    /// systemd's name of the action.
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(_, a)| *a == self)
            .map_or("none", |(n, _)| n)
    }

    /// How the action ends bosun; None for `none`.
    pub fn ending(self) -> Option<Ending> {
        use EmergencyAction as A;
        match self {
            A::None => None,
            A::Reboot | A::Poweroff | A::Exit | A::Kexec | A::Halt => Some(Ending::Ordered),
            _ => Some(Ending::Immediate),
        }
    }

    /// What the action would do on a machine (`reboot`, `poweroff`, ...), for messages.
    pub fn verb(self) -> &'static str {
        let name = self.name();
        name.split('-').next().unwrap_or(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips_and_maps_to_an_ending() {
        for (name, action) in NAMES {
            assert_eq!(EmergencyAction::parse(name), Some(action));
            assert_eq!(action.name(), name);
        }
        assert_eq!(EmergencyAction::parse("soft-reboot"), None); // systemd 254
        assert_eq!(EmergencyAction::parse("Poweroff"), None);
        assert_eq!(EmergencyAction::None.ending(), None);
        assert_eq!(EmergencyAction::Exit.ending(), Some(Ending::Ordered));
        assert_eq!(EmergencyAction::Poweroff.ending(), Some(Ending::Ordered));
        assert_eq!(EmergencyAction::ExitForce.ending(), Some(Ending::Immediate));
        assert_eq!(
            EmergencyAction::RebootImmediate.ending(),
            Some(Ending::Immediate)
        );
        assert_eq!(EmergencyAction::HaltForce.verb(), "halt");
    }
}
