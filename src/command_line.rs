//! Parsing a `/command args` line (`/name[@bot] args`). A leaf: the dispatcher, the intake's
//! `/cancel` check and the calendar's password check all read commands the same way.

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine<'a> {
    /// Lowercase command name without the slash or `@botname`.
    pub name: String,
    /// Everything after the name, trimmed.
    pub args: &'a str,
}

/// Parses `/name[@bot] args`; `None` when the text is not a command.
pub fn parse_command(text: &str) -> Option<CommandLine<'_>> {
    let rest = text.trim_start().strip_prefix('/')?;
    let (head, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let name = head.split('@').next().unwrap_or(head).to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    valid.then_some(CommandLine {
        name,
        args: args.trim(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_with_bot_name_and_args_is_parsed() {
        let c = parse_command("/Note@my_bot add buy milk ").unwrap();
        assert_eq!(c.name, "note");
        assert_eq!(c.args, "add buy milk");
    }

    #[test]
    fn plain_text_and_paths_are_not_commands() {
        assert_eq!(parse_command("hello /help"), None);
        assert_eq!(parse_command("/usr/bin is a path"), None);
        assert_eq!(parse_command("/"), None);
    }
}
