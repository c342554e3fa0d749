require "answer"
puts "answer from C: #{Answer.answer} (uid #{Process.uid})"
