//! A tiny built-in bitmap font (3×5 cells) for the chart's numbers, so no font file or system
//! font library is needed: digits, `.`, `,`, `$`, `k`, `M`, `-` and `/`. Anything else is
//! drawn as a blank.

/// Width of one glyph in cells.
pub const GLYPH_W: i32 = 3;
/// Height of one glyph in cells.
pub const GLYPH_H: i32 = 5;

/// The rows of `c`, top first; bit 2 is the left cell.
fn rows(c: char) -> [u8; 5] {
    match c {
        '0' => [0b111, 0b101, 0b101, 0b101, 0b111],
        '1' => [0b010, 0b110, 0b010, 0b010, 0b111],
        '2' => [0b111, 0b001, 0b111, 0b100, 0b111],
        '3' => [0b111, 0b001, 0b111, 0b001, 0b111],
        '4' => [0b101, 0b101, 0b111, 0b001, 0b001],
        '5' => [0b111, 0b100, 0b111, 0b001, 0b111],
        '6' => [0b111, 0b100, 0b111, 0b101, 0b111],
        '7' => [0b111, 0b001, 0b001, 0b010, 0b010],
        '8' => [0b111, 0b101, 0b111, 0b101, 0b111],
        '9' => [0b111, 0b101, 0b111, 0b001, 0b111],
        '.' => [0b000, 0b000, 0b000, 0b000, 0b010],
        ',' => [0b000, 0b000, 0b000, 0b010, 0b100],
        '$' => [0b011, 0b110, 0b010, 0b011, 0b110],
        'k' => [0b100, 0b101, 0b110, 0b101, 0b101],
        'M' => [0b101, 0b111, 0b111, 0b101, 0b101],
        '-' => [0b000, 0b000, 0b111, 0b000, 0b000],
        '/' => [0b001, 0b001, 0b010, 0b100, 0b100],
        _ => [0; 5],
    }
}

/// The lit cells of `text` as (column, row) in cells, glyphs one blank column apart.
pub fn cells(text: &str) -> impl Iterator<Item = (i32, i32)> + '_ {
    text.chars().enumerate().flat_map(|(i, c)| {
        let left = i32::try_from(i).unwrap_or(i32::MAX / 8) * (GLYPH_W + 1);
        let rows = rows(c);
        (0..GLYPH_H).flat_map(move |y| {
            let bits = rows[usize::try_from(y).unwrap_or(0)];
            (0..GLYPH_W)
                .filter(move |x| bits & (0b100 >> x) != 0)
                .map(move |x| (left + x, y))
        })
    })
}

/// Width of `text` in cells.
pub fn width(text: &str) -> i32 {
    let n = i32::try_from(text.chars().count()).unwrap_or(0);
    (n * (GLYPH_W + 1) - 1).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_lights_its_stem_and_base_and_glyphs_sit_side_by_side() {
        let one: Vec<_> = cells("1").collect();
        assert!(one.contains(&(1, 0)) && one.contains(&(0, 4)) && one.contains(&(2, 4)));
        assert!(!one.contains(&(0, 0)));
        let two: Vec<_> = cells("-1").collect();
        assert!(two.contains(&(0, 2)) && two.contains(&(5, 0)));
        assert_eq!(width("12"), 7);
    }
}
