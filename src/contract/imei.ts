// IMEIs: the Luhn check digit every real one carries, and random valid ones for simulators and tests.

const luhnSum = (digits: string): number => {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum;
};

export function isValidImei(imei: string): boolean {
  return /^\d{15}$/.test(imei) && luhnSum(imei) % 10 === 0;
}

/** A random 15-digit IMEI with a valid check digit (`random` returns an integer in [0, 10)). */
export function randomImei(random: () => number = () => Math.floor(Math.random() * 10)): string {
  const body = Array.from({ length: 14 }, random).join('');
  // The check digit is the 15th digit, at an even index: it is added as it is.
  const check = (10 - (luhnSum(`${body}0`) % 10)) % 10;
  return body + check;
}
