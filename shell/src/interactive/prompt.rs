//! The prompt: `MARSH_PROMPT` with `{n}` replaced by a counter that starts at 1 and grows by
//! one at each new prompt (redraws of the same prompt keep its number), so a harness can wait
//! for "the next prompt" without mistaking a redraw for it.

use reedline::{Prompt, PromptEditMode, PromptHistorySearch, PromptHistorySearchStatus};
use std::borrow::Cow;

/// The prompt used when `MARSH_PROMPT` is unset.
pub const DEFAULT_PROMPT: &str = "marsh {n}> ";

/// The continuation prompt used when `MARSH_PROMPT2` is unset.
pub const DEFAULT_PROMPT2: &str = "... ";

/// One prompt, rendered once per line read.
pub struct NumberedPrompt {
    text: String,
    /// Shown before each further line of an unfinished command (`$MARSH_PROMPT2`).
    continuation: String,
}

impl NumberedPrompt {
    /// The prompt for the `n`th line, from `template` (`{n}` is replaced by `n`).
    pub fn new(template: &str, n: u64) -> NumberedPrompt {
        NumberedPrompt {
            text: template.replace("{n}", &n.to_string()),
            continuation: DEFAULT_PROMPT2.to_string(),
        }
    }

    /// The same prompt with `text` before the further lines of an unfinished command.
    pub fn with_continuation(self, text: &str) -> NumberedPrompt {
        NumberedPrompt {
            continuation: text.to_string(),
            ..self
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

impl Prompt for NumberedPrompt {
    fn render_prompt_left(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.text)
    }
    fn render_prompt_right(&self) -> Cow<'_, str> {
        Cow::Borrowed("")
    }
    fn render_prompt_indicator(&self, _: PromptEditMode) -> Cow<'_, str> {
        Cow::Borrowed("")
    }
    fn render_prompt_multiline_indicator(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.continuation)
    }
    fn render_prompt_history_search_indicator(&self, search: PromptHistorySearch) -> Cow<'_, str> {
        let prefix = match search.status {
            PromptHistorySearchStatus::Passing => "",
            PromptHistorySearchStatus::Failing => "failing ",
        };
        Cow::Owned(format!("({prefix}reverse-search: {}) ", search.term))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_replaces_every_placeholder() {
        assert_eq!(NumberedPrompt::new("marsh {n}$ ", 7).text(), "marsh 7$ ");
        assert_eq!(NumberedPrompt::new("[{n}|{n}] ", 2).text(), "[2|2] ");
        assert_eq!(NumberedPrompt::new("plain> ", 3).text(), "plain> ");
    }
}
