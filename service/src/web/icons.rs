//! The portals' icons: Lucide's (the `icondata_lu` crate), served as one SVG sprite at
//! `<service>/assets/icons.svg` and drawn by name with [`icon`]. Only the icons named here are
//! in the sprite; a page asking for another gets none (and a debug build says so).

use icondata_core::IconData;
use icondata_lu as lu;
use std::sync::LazyLock;

/// The names pages use, and Lucide's drawing of each.
const ICONS: &[(&str, &IconData)] = &[
    ("alert", lu::LuCircleAlert),
    ("award", lu::LuAward),
    ("bell", lu::LuBell),
    ("book", lu::LuBookOpenCheck),
    ("briefcase", lu::LuBriefcaseBusiness),
    ("building", lu::LuBuilding2),
    ("calendar", lu::LuCalendarDays),
    ("camera", lu::LuCamera),
    ("check", lu::LuCircleCheck),
    ("chevron", lu::LuChevronRight),
    ("clipboard", lu::LuClipboardCheck),
    ("download", lu::LuDownload),
    ("eye-off", lu::LuEyeOff),
    ("graduation", lu::LuGraduationCap),
    ("history", lu::LuHistory),
    ("home", lu::LuHouse),
    ("inbox", lu::LuInbox),
    ("list", lu::LuListChecks),
    ("lock", lu::LuLock),
    ("mail", lu::LuMail),
    ("message", lu::LuMessagesSquare),
    ("plus", lu::LuPlus),
    ("printer", lu::LuPrinter),
    ("qr", lu::LuQrCode),
    ("search", lu::LuSearch),
    ("send", lu::LuSend),
    ("settings", lu::LuSettings),
    ("share", lu::LuShare2),
    ("shield", lu::LuShieldCheck),
    ("sign-out", lu::LuLogOut),
    ("trash", lu::LuTrash2),
    ("user", lu::LuCircleUser),
    ("users", lu::LuUsers),
    ("wallet", lu::LuWalletCards),
];

/// The sprite: one `<symbol id="i-{name}">` per icon.
pub static SPRITE: LazyLock<String> = LazyLock::new(|| {
    let mut svg = String::from(r#"<svg xmlns="http://www.w3.org/2000/svg">"#);
    for (name, icon) in ICONS {
        let attr = |name: &str, value: Option<&str>| {
            value.map_or_else(String::new, |v| format!(r#" {name}="{v}""#))
        };
        svg.push_str(&format!(
            r#"<symbol id="i-{name}"{}{}{}{}{}{}>{}</symbol>"#,
            attr("viewBox", icon.view_box),
            attr("fill", icon.fill),
            attr("stroke", icon.stroke),
            attr("stroke-width", icon.stroke_width),
            attr("stroke-linecap", icon.stroke_linecap),
            attr("stroke-linejoin", icon.stroke_linejoin),
            icon.data
        ));
    }
    svg.push_str("</svg>");
    svg
});

/// The icon `name` of the sprite of the service at `base`, decorative (the text beside it
/// says what it means).
pub fn icon(base: &str, name: &str) -> String {
    debug_assert!(
        ICONS.iter().any(|(n, _)| *n == name),
        "no icon named {name}"
    );
    format!(
        r##"<svg class="icon" aria-hidden="true" focusable="false"><use href="{base}/assets/icons.svg#i-{name}"/></svg>"##
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sprite_holds_every_icon_once() {
        let sprite = &*super::SPRITE;
        for (name, _) in super::ICONS {
            assert_eq!(
                sprite.matches(&format!("id=\"i-{name}\"")).count(),
                1,
                "{name}"
            );
        }
        assert!(sprite.contains("viewBox=\"0 0 24 24\""));
        assert!(sprite.contains("<path"));
    }
}
