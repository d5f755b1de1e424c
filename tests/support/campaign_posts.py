"""Texts written for the campaign tests (no corpus text): one campaign message, its buzzer variants, and
unrelated posts."""

from __future__ import annotations

HOUR = 3600.0

MESSAGE = (
    "Ayo warga semua dukung paslon nomor dua demi Indonesia yang lebih maju adil dan sejahtera "
    "jangan mau dibohongi janji manis kubu sebelah"
)

# near-duplicates of MESSAGE as buzzer accounts post them
VARIANTS = [
    MESSAGE,
    MESSAGE.upper() + " 🔥🔥🔥",
    "@relawan_02 " + MESSAGE + " https://t.co/xYz123",
    MESSAGE.replace("semua", "semuaaaa") + " #IndonesiaMaju #Pilih02",
    MESSAGE.replace("dukung", "ayo dukung terus"),  # insertion
    MESSAGE.replace("adil dan sejahtera", "sejahtera dan adil"),  # swap
    " ".join(MESSAGE.split()[:17]),  # truncated
    "RT @buzzer: " + MESSAGE + " 👍",
]

# unrelated posts, each on its own topic
DISTINCT = [
    "Hari ini cuaca di Bandung cerah sekali cocok untuk jalan jalan ke taman bersama keluarga",
    "Harga cabai di pasar naik lagi minggu ini pedagang mengeluh pembeli makin sepi",
    "Timnas main bagus tadi malam semoga lolos ke babak berikutnya piala asia",
    "Jalan tol baru menuju bandara akhirnya dibuka perjalanan jadi lebih cepat",
    "Resep rendang ibu memang paling enak dimasak lama dengan santan kental",
    "Banjir lagi di kawasan utara kota warga minta saluran air segera diperbaiki",
    "Kuliah daring bikin mata lelah tapi tugas tetap harus dikumpulkan besok pagi",
    "Konser musik di alun alun ramai sekali penonton datang dari berbagai daerah",
    "Kereta pagi terlambat setengah jam penumpang menunggu di peron tanpa informasi",
    "Panen padi tahun ini melimpah petani berharap harga gabah tetap stabil",
    "Dukung terus UMKM lokal dengan membeli produk buatan tetangga sendiri",
    "Debat calon kemarin membahas pendidikan kesehatan dan lapangan kerja untuk anak muda",
]
