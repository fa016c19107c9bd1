// The chosen language: from navigator.languages at first, then the switch (kept in
// localStorage); <html lang> follows. `t(key, values)` reads messages.js.
import { createContext } from "preact";
import { useContext, useEffect, useMemo, useState } from "preact/hooks";
import { messages } from "./messages.js";

const STORAGE_KEY = "console.lang";
export const LANGUAGES = [["ja", "日本語"], ["en", "English"]];

function storedLanguage() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function chooseLanguage() {
  const wanted = storedLanguage() || (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  return String(wanted).toLowerCase().startsWith("ja") ? "ja" : "en";
}

/** `key`'s text; a key whose last part has dots of its own (`audit.types.admin.app.created`)
 * is found too. */
function lookup(table, key) {
  const parts = key.split(".");
  let node = table;
  for (let i = 0; i < parts.length; i++) {
    if (!node || typeof node !== "object") return undefined;
    if (node[parts[i]] === undefined) return node[parts.slice(i).join(".")];
    node = node[parts[i]];
  }
  return node;
}

export function translate(lang, key, values) {
  const text = lookup(messages[lang], key) ?? lookup(messages.en, key) ?? key;
  return String(text).replace(/\{(\w+)\}/g, (whole, name) => (values && values[name] !== undefined ? String(values[name]) : whole));
}

const I18n = createContext(null);

export function I18nProvider({ children }) {
  const [lang, setLangState] = useState(chooseLanguage);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const value = useMemo(() => {
    const setLang = (next) => {
      try {
        localStorage.setItem(STORAGE_KEY, next);
      } catch {
        // Private mode: the switch still works for this page.
      }
      setLangState(next);
    };
    const locale = lang === "ja" ? "ja-JP" : "en-GB";
    const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "medium" });
    return {
      lang,
      setLang,
      t: (key, values) => translate(lang, key, values),
      /** Seconds since the epoch, as a local date and time. */
      time: (seconds) => dateTime.format(new Date(seconds * 1000)),
      number: (n) => n.toLocaleString(locale),
    };
  }, [lang]);
  return <I18n.Provider value={value}>{children}</I18n.Provider>;
}

export const useI18n = () => useContext(I18n);
