/**
 * How the lookup compares a last name: case-, accent- and punctuation-
 * insensitively ("Müller" = "MULLER", "O'Brien" = "obrien"), word by word.
 */
export function nameWords (name: string): string[] {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLocaleLowerCase('en')
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .split(/\s+/)
    .filter((word) => word !== '')
}

/**
 * Whether `lastName` is the holder's last name: the last word of the holder's
 * name, or, for a last name of several words ("van der Berg"), the same
 * number of last words. Never the whole name of a holder with more than one
 * word: a first name is not a last name.
 */
export function lastNameMatches (holderName: string, lastName: string): boolean {
  const holder = nameWords(holderName)
  const given = nameWords(lastName)
  if (given.length === 0 || holder.length === 0) return false
  if (holder.length > 1 && given.length >= holder.length) return false
  const tail = holder.slice(-given.length)
  return tail.length === given.length && tail.every((word, i) => word === given[i])
}
