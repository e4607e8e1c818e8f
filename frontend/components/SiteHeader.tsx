"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

const LINKS = [
  { href: "/", label: "New transcription", short: "New" },
  { href: "/history/", label: "History", short: "History" },
];

export function SiteHeader() {
  const pathname = usePathname();
  const current = (href: string) => (href === "/" ? pathname === "/" : pathname?.startsWith(href.replace(/\/$/, "")));
  return (
    <header className="site-header">
      <div className="site-header__inner">
        <Link href="/" className="brand" aria-label="DrumScribe home">
          <svg className="brand__icon" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
            <rect width="32" height="32" rx="7" fill="currentColor" />
            <ellipse cx="16" cy="12" rx="10" ry="4" fill="#fff" />
            <path d="M6 12v9c0 2.2 4.5 4 10 4s10-1.8 10-4v-9c0 2.2-4.5 4-10 4S6 14.2 6 12z" fill="#fff" opacity=".75" />
          </svg>
          <span>DrumScribe</span>
        </Link>
        <nav aria-label="Main">
          <ul className="nav">
            {LINKS.map((link) => (
              <li key={link.href}>
                <Link href={link.href} className="nav__link" aria-current={current(link.href) ? "page" : undefined}>
                  <span className="nav__long">{link.label}</span>
                  <span className="nav__short">{link.short}</span>
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </div>
    </header>
  );
}
