#!/usr/bin/env python3
"""Writes configs/demo/support/heldout.jsonl: 320 open-ended customer-support requests with a
reference reply each, for the judged demo (configs/demo_judged.json, issue 12). Synthetic and
seeded (the same file every time): no person, address, e-mail, phone or card number appears;
order and ticket numbers are made up. Run: python3 scripts/gen_support_data.py"""
import json
import os
import random

TOPICS = {
    "refund": (["I returned the {item} {days} days ago and still have no refund for order {order}.",
                "Where is my refund for the {item}? Order {order}, sent back last week.",
                "You promised a refund for order {order} but nothing has arrived."],
               "Sorry for the wait on order {order}. Your return of the {item} was received and the refund "
               "is approved; it reaches your original payment method within 5 business days."),
    "password": (["I can't log in, the reset link for my account never arrives.",
                  "Password reset emails are not reaching me, what can I do?",
                  "How do I reset my password? The link says it expired."],
                 "Reset links expire after 30 minutes. Request a new one from the sign-in page, check the "
                 "spam folder, and open it within 30 minutes; ticket {ticket} tracks it if it still fails."),
    "shipping": (["My {item} (order {order}) was due {days} days ago, where is it?",
                  "Order {order} still says in transit after {days} days.",
                  "The tracking for my {item} has not moved in {days} days."],
                 "Order {order} is delayed at the carrier's depot. It should arrive within 3 business days; "
                 "if it does not, reply here and we will send a replacement {item} at no cost."),
    "cancel": (["Please cancel my subscription before the next renewal.",
                "How do I stop the monthly plan? I don't want to be charged again.",
                "Cancel my membership, I no longer use it."],
               "Your subscription is cancelled and will not renew. You keep access until the end of the "
               "current period, and no further charges will be made; ticket {ticket} confirms it."),
    "billing": (["I was charged twice for order {order}.",
                 "There is a duplicate charge of {amount} on my statement.",
                 "Why did you bill me {amount} twice this month?"],
                "You are right, order {order} was charged twice by mistake. The duplicate charge of {amount} "
                "is reversed today and disappears from your statement within 5 business days."),
    "damaged": (["The {item} arrived broken. Order {order}.",
                 "My {item} was damaged in the box, what now?",
                 "Order {order}: the {item} is cracked."],
                "Sorry the {item} arrived damaged. A replacement for order {order} ships today at no cost, "
                "and you do not need to return the broken one."),
    "address": (["Can I change the delivery address of order {order}?",
                 "I moved, please update the shipping address for order {order}.",
                 "Wrong address on order {order}, can you fix it?"],
                "Order {order} has not shipped yet, so the address can still change. Update it under "
                "Orders > {order} > Delivery within 2 hours, or reply with the new address and we will do it."),
    "locked": (["My account is locked after too many attempts.",
                "It says my account is locked, how long does it last?",
                "Locked out of my account, help."],
               "For security the account locks for 15 minutes after five failed sign-ins. Wait 15 minutes, "
               "then reset your password; ticket {ticket} stays open if the lock persists."),
}
ITEMS = ["kettle", "desk lamp", "backpack", "headphones", "coffee grinder", "yoga mat", "phone case", "blender"]
AMOUNTS = ["12.99 EUR", "24.50 EUR", "7.00 EUR", "49.90 EUR", "15.75 EUR"]


def main():
    rng = random.Random(20261130)
    names = sorted(TOPICS)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "configs", "demo", "support", "heldout.jsonl")
    with open(out, "w", encoding="utf-8") as f:
        for i in range(320):
            topic = names[i % len(names)]
            asks, reply = TOPICS[topic]
            slots = {"item": rng.choice(ITEMS), "days": rng.randint(3, 14), "order": "A%05d" % rng.randint(10000, 99999),
                     "ticket": "T-%04d" % rng.randint(1000, 9999), "amount": rng.choice(AMOUNTS)}
            row = {"id": "support-%04d" % i, "input": rng.choice(asks).format(**slots),
                   "gold": reply.format(**slots), "cluster": topic}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
