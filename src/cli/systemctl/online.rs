//! systemctl with a running bosun: the one place where the control-socket client plugs in.
//! Until PID 1 serves its control socket, the unit file verbs do their file work here exactly
//! as offline (a running bosun sees the new links at its next daemon-reload), and every verb
//! that needs the manager says the socket is not served and exits 1.

use std::path::Path;

use super::args::{Invocation, Verb};
use super::offline;
use crate::init::exit::Exit;

/// Run `invocation` against the bosun serving the control socket under `root`.
///
/// [`super::bosun_running`] has already connected once to decide that bosun runs (and closed
/// that connection); this function owns every further exchange with PID 1.
pub fn run(invocation: &Invocation, root: &Path) -> Exit {
    let file_verb = matches!(
        invocation.verb,
        Verb::Enable
            | Verb::Disable
            | Verb::Reenable
            | Verb::Mask
            | Verb::Unmask
            | Verb::Preset
            | Verb::IsEnabled
            | Verb::ListUnitFiles
            | Verb::GetDefault
            | Verb::SetDefault
            | Verb::Cat
    );
    if file_verb && !invocation.options.now {
        return offline::run(invocation, root);
    }
    eprintln!("bosun: the control socket is not served yet");
    Exit::Failure
}
